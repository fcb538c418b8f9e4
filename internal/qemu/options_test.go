package qemu

import (
	"errors"
	"strings"
	"testing"
)

func TestArgs(t *testing.T) {
	base := Options{Image: "/w/overlay.qcow2", MemoryMiB: 2048, CPUs: 2, SerialLog: "/w/console.log"}
	uefi := func(o Options) Options {
		o.Firmware, o.OVMFCode, o.OVMFVars = UEFI, "/usr/share/OVMF/OVMF_CODE_4M.fd", "/w/vars.fd"
		return o
	}
	with := func(o Options, a Accel) Options { o.Accel = a; return o }
	const common = "-m 2048 -smp 2 -nographic -nodefaults -no-reboot -chardev file,id=serial0,path=/w/console.log -serial chardev:serial0 "
	const pflash = "-drive if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd -drive if=pflash,format=raw,unit=1,file=/w/vars.fd "
	const tail = "-drive file=/w/overlay.qcow2,if=virtio,format=qcow2 -netdev user,id=net0 -device virtio-net-pci,netdev=net0 -device virtio-rng-pci"
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"kvm bios", with(base, KVM), "-machine q35,accel=kvm -cpu host " + common + tail},
		{"tcg bios", with(base, TCG), "-machine q35,accel=tcg -cpu max " + common + tail},
		{"kvm uefi", uefi(with(base, KVM)), "-machine q35,accel=kvm -cpu host " + common + pflash + tail},
		{"tcg uefi", uefi(with(base, TCG)), "-machine q35,accel=tcg -cpu max " + common + pflash + tail},
		{"defaults", Options{Image: "i.qcow2"},
			"-machine q35,accel=tcg -cpu max -m 1024 -smp 1 -nographic -nodefaults -no-reboot " +
				"-drive file=i.qcow2,if=virtio,format=qcow2 -netdev user,id=net0 -device virtio-net-pci,netdev=net0 -device virtio-rng-pci"},
		{"seed and ssh", Options{Image: "/a,b/i.qcow2", ExtraDrives: []string{"/w/seed.iso", "/w/data.qcow2"}, SSHForwardPort: 2222},
			"-machine q35,accel=tcg -cpu max -m 1024 -smp 1 -nographic -nodefaults -no-reboot " +
				"-drive file=/a,,b/i.qcow2,if=virtio,format=qcow2 " +
				"-drive file=/w/seed.iso,if=virtio,format=raw,readonly=on -drive file=/w/data.qcow2,if=virtio,format=qcow2,readonly=on " +
				"-netdev user,id=net0,hostfwd=tcp:127.0.0.1:2222-:22 -device virtio-net-pci,netdev=net0 -device virtio-rng-pci"},
		{"direct kernel", Options{Accel: KVM, MemoryMiB: 256, Kernel: "/t/vmlinuz", Initrd: "/t/initrd.img", KernelArgs: "console=ttyS0 panic=-1"},
			"-machine q35,accel=kvm -cpu host -m 256 -smp 1 -nographic -nodefaults -no-reboot " +
				"-netdev user,id=net0 -device virtio-net-pci,netdev=net0 -device virtio-rng-pci " +
				"-kernel /t/vmlinuz -initrd /t/initrd.img -append console=ttyS0 panic=-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.o.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if got := strings.Join(Args(tt.o), " "); got != tt.want {
				t.Errorf("Args:\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestArgsKeepsPathsWithSpacesInOneArgument(t *testing.T) {
	args := Args(Options{Image: "/my images/i.qcow2", SerialLog: "/my logs/c.log"})
	for _, want := range []string{"file=/my images/i.qcow2,if=virtio,format=qcow2", "file,id=serial0,path=/my logs/c.log"} {
		found := false
		for _, a := range args {
			found = found || a == want
		}
		if !found {
			t.Errorf("no argument %q in %q", want, args)
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		want string // substring of the error; empty: valid
	}{
		{"image", Options{Image: "i"}, ""},
		{"kernel", Options{Kernel: "k"}, ""},
		{"nothing to boot", Options{}, "neither an image nor a kernel"},
		{"uefi without ovmf", Options{Image: "i", Firmware: UEFI}, "OVMFCode and OVMFVars"},
		{"bad firmware", Options{Image: "i", Firmware: "coreboot"}, `unknown firmware "coreboot"`},
		{"bad accel", Options{Image: "i", Accel: "hvf"}, `unknown accelerator "hvf"`},
		{"negative memory", Options{Image: "i", MemoryMiB: -1}, "negative"},
		{"port", Options{Image: "i", SSHForwardPort: 70000}, "out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.o.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrInvalidOptions) {
				t.Fatalf("Validate = %v, want ErrInvalidOptions containing %q", err, tt.want)
			}
		})
	}
}
