// Package qemu drives qemu-system-x86_64: pure argv builders, accelerator
// detection, the lifetime of a running machine and its serial console.
package qemu

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Accel is a QEMU accelerator.
type Accel string

const (
	KVM Accel = "kvm"
	TCG Accel = "tcg" // pure emulation: slow, works everywhere
)

// Firmware is how the machine boots.
type Firmware string

const (
	BIOS Firmware = "bios" // SeaBIOS, QEMU's default
	UEFI Firmware = "uefi" // OVMF in two pflash drives
)

// Binary is the QEMU program started when Options.Binary is empty.
const Binary = "qemu-system-x86_64"

// Defaults applied by Args when a field is zero.
const (
	DefaultMemoryMiB = 1024
	DefaultCPUs      = 1
)

// ErrInvalidOptions is wrapped by every error Validate returns.
var ErrInvalidOptions = errors.New("invalid qemu options")

// Options describe one virtual machine.
type Options struct {
	Binary      string   // program to run; default Binary
	Image       string   // qcow2 to boot, usually an overlay made by the caller; it is written to
	Firmware    Firmware // default BIOS
	Accel       Accel    // default TCG
	MemoryMiB   int      // default DefaultMemoryMiB
	CPUs        int      // default DefaultCPUs
	SerialLog   string   // file the first serial port (ttyS0) is written to; empty: no serial port
	OVMFCode    string   // UEFI only: firmware code, attached read-only
	OVMFVars    string   // UEFI only: variable store; must be a writable copy, QEMU writes it
	ExtraDrives []string // attached read-only as further virtio disks (a NoCloud seed ISO); raw unless *.qcow2
	// SSHForwardPort forwards 127.0.0.1:SSHForwardPort on the host to the
	// guest's port 22 when > 0.
	SSHForwardPort int
	// Kernel, Initrd and KernelArgs boot a kernel directly instead of the
	// image's boot loader (used to probe accelerators). Image may then be empty.
	Kernel     string
	Initrd     string
	KernelArgs string
}

// Validate reports options that Args would turn into a machine that cannot
// start.
func (o Options) Validate() error {
	var errs []error
	if o.Image == "" && o.Kernel == "" {
		errs = append(errs, errors.New("neither an image nor a kernel to boot"))
	}
	switch o.Firmware {
	case "", BIOS:
	case UEFI:
		if o.OVMFCode == "" || o.OVMFVars == "" {
			errs = append(errs, errors.New("uefi needs OVMFCode and OVMFVars"))
		}
	default:
		errs = append(errs, fmt.Errorf("unknown firmware %q (want %s or %s)", o.Firmware, BIOS, UEFI))
	}
	if o.Accel != "" && o.Accel != KVM && o.Accel != TCG {
		errs = append(errs, fmt.Errorf("unknown accelerator %q (want %s or %s)", o.Accel, KVM, TCG))
	}
	if o.MemoryMiB < 0 || o.CPUs < 0 {
		errs = append(errs, errors.New("negative memory or CPU count"))
	}
	if o.SSHForwardPort < 0 || o.SSHForwardPort > 65535 {
		errs = append(errs, fmt.Errorf("ssh forward port %d out of range", o.SSHForwardPort))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrInvalidOptions, errors.Join(errs...))
	}
	return nil
}

func (o Options) withDefaults() Options {
	if o.Binary == "" {
		o.Binary = Binary
	}
	if o.Firmware == "" {
		o.Firmware = BIOS
	}
	if o.Accel == "" {
		o.Accel = TCG
	}
	if o.MemoryMiB == 0 {
		o.MemoryMiB = DefaultMemoryMiB
	}
	if o.CPUs == 0 {
		o.CPUs = DefaultCPUs
	}
	return o
}

// Args returns the arguments (without the program name) that start the
// machine o describes, with defaults applied. It does no I/O; call Validate
// first.
func Args(o Options) []string {
	o = o.withDefaults()
	args := []string{
		"-machine", "q35,accel=" + string(o.Accel),
		"-cpu", cpuModel(o.Accel),
		"-m", strconv.Itoa(o.MemoryMiB),
		"-smp", strconv.Itoa(o.CPUs),
		"-nographic", "-nodefaults", "-no-reboot",
	}
	args = append(args, serialArgs(o.SerialLog)...)
	args = append(args, firmwareArgs(o)...)
	args = append(args, driveArgs(o)...)
	args = append(args, netArgs(o.SSHForwardPort)...)
	args = append(args, "-device", "virtio-rng-pci")
	return append(args, kernelArgs(o)...)
}

func cpuModel(a Accel) string {
	if a == KVM {
		return "host"
	}
	return "max"
}

func serialArgs(log string) []string {
	if log == "" {
		return nil
	}
	return []string{"-chardev", "file,id=serial0,path=" + escape(log), "-serial", "chardev:serial0"}
}

func firmwareArgs(o Options) []string {
	if o.Firmware != UEFI {
		return nil
	}
	return []string{
		"-drive", "if=pflash,format=raw,unit=0,readonly=on,file=" + escape(o.OVMFCode),
		"-drive", "if=pflash,format=raw,unit=1,file=" + escape(o.OVMFVars),
	}
}

func driveArgs(o Options) []string {
	var args []string
	if o.Image != "" {
		args = append(args, "-drive", "file="+escape(o.Image)+",if=virtio,format=qcow2")
	}
	for _, d := range o.ExtraDrives {
		format := "raw"
		if strings.HasSuffix(d, ".qcow2") {
			format = "qcow2"
		}
		args = append(args, "-drive", "file="+escape(d)+",if=virtio,format="+format+",readonly=on")
	}
	return args
}

func netArgs(sshPort int) []string {
	netdev := "user,id=net0"
	if sshPort > 0 {
		netdev += ",hostfwd=tcp:127.0.0.1:" + strconv.Itoa(sshPort) + "-:22"
	}
	return []string{"-netdev", netdev, "-device", "virtio-net-pci,netdev=net0"}
}

func kernelArgs(o Options) []string {
	if o.Kernel == "" {
		return nil
	}
	args := []string{"-kernel", o.Kernel}
	if o.Initrd != "" {
		args = append(args, "-initrd", o.Initrd)
	}
	if o.KernelArgs != "" {
		args = append(args, "-append", o.KernelArgs)
	}
	return args
}

// escape doubles commas, which QEMU's option syntax uses as separators.
func escape(path string) string { return strings.ReplaceAll(path, ",", ",,") }
