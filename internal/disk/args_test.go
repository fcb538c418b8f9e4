package disk

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run with -update to create it): %v", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from golden file:\n--- got ---\n%s\n--- want ---\n%s", name, got, want)
	}
}

func testLayout(t *testing.T) Layout {
	t.Helper()
	l, err := PlanLayout(2<<30, "golden-build")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestSfdiskScriptGolden(t *testing.T) {
	golden(t, "sfdisk.golden", SfdiskScript(testLayout(t), "/var/tmp/disk.raw"))
}

func TestGrubConfigGolden(t *testing.T) {
	golden(t, "grub.cfg.golden", GrubConfig("6.1.0-18-cloud-amd64", testLayout(t).RootUUID))
}

func TestFstabGolden(t *testing.T) {
	golden(t, "fstab.golden", Fstab(testLayout(t)))
}

func TestEarlyConfigGolden(t *testing.T) {
	golden(t, "early.cfg.golden", EarlyConfig(testLayout(t).RootUUID))
}

func TestPartitionDevice(t *testing.T) {
	tests := []struct {
		device string
		n      int
		want   string
	}{
		{"disk.raw", 14, "disk.raw14"},
		{"/dev/sda", 1, "/dev/sda1"},
		{"/dev/nvme0n1", 15, "/dev/nvme0n1p15"},
		{"build-2", 1, "build-2p1"},
	}
	for _, tt := range tests {
		if got := partitionDevice(tt.device, tt.n); got != tt.want {
			t.Errorf("partitionDevice(%q, %d) = %q, want %q", tt.device, tt.n, got, tt.want)
		}
	}
}

func TestArgs(t *testing.T) {
	l := testLayout(t)
	tests := []struct {
		name string
		got  []string
		want string
	}{
		{"sfdisk", SfdiskArgs("/w/disk.raw"),
			"sfdisk --quiet --no-reread --no-tell-kernel /w/disk.raw"},
		{"mkfs", MkfsArgs("/w/root.img", "/w/tree", l),
			"mkfs.ext4 -q -F -b 4096 -L rootfs -U " + l.RootUUID + " -E hash_seed=" + l.RootHashSeed + ",root_owner=0:0 -d /w/tree /w/root.img"},
		{"grub bios", GrubMkimageArgs(GrubBIOS, "/usr/lib/grub", "/w/early.cfg", "/w/core.img"),
			"grub-mkimage -O i386-pc -d /usr/lib/grub/i386-pc -o /w/core.img -c /w/early.cfg -p /boot/grub " +
				"biosdisk part_gpt part_msdos ext2 fat search search_fs_uuid search_fs_file search_label " +
				"normal configfile linux boot chain serial terminal terminfo echo test sleep " +
				"gzio xzio zstd all_video gettext minicmd ls cat loadenv halt reboot"},
		{"grub efi", GrubMkimageArgs(GrubEFI, "/opt/grub", "/w/early.cfg", "/w/grubx64.efi"),
			"grub-mkimage -O x86_64-efi -d /opt/grub/x86_64-efi -o /w/grubx64.efi -c /w/early.cfg -p /boot/grub " +
				"part_gpt part_msdos ext2 fat search search_fs_uuid search_fs_file search_label " +
				"normal configfile linux boot chain serial terminal terminfo echo test sleep " +
				"gzio xzio zstd all_video gettext minicmd ls cat loadenv halt reboot"},
		{"mformat", MformatArgs("/w/esp.img", "AB12-CD34"),
			"mformat -i /w/esp.img -F -N AB12CD34 -v ESP ::"},
		{"mmd", MmdArgs("/w/esp.img", espDirs...),
			"mmd -i /w/esp.img ::/EFI ::/EFI/BOOT ::/EFI/debian"},
		{"mcopy", McopyArgs("/w/esp.img", "/w/grubx64.efi", espFallbackPath),
			"mcopy -i /w/esp.img -m /w/grubx64.efi ::/EFI/BOOT/BOOTX64.EFI"},
		{"debugfs", DebugfsArgs("/w/root.img", "/w/clamp.debugfs"),
			"debugfs -w -f /w/clamp.debugfs /w/root.img"},
		{"qemu-img default", QemuImgConvertArgs("/w/d.raw", "/o/d.qcow2", QCOW2Options{}),
			"qemu-img convert -f raw -O qcow2 -c -o compression_type=zlib /w/d.raw /o/d.qcow2"},
		{"qemu-img zstd", QemuImgConvertArgs("/w/d.raw", "/o/d.qcow2", QCOW2Options{Compression: "zstd"}),
			"qemu-img convert -f raw -O qcow2 -c -o compression_type=zstd /w/d.raw /o/d.qcow2"},
		{"qemu-img check", QemuImgCheckArgs("/o/d.qcow2"),
			"qemu-img check -f qcow2 /o/d.qcow2"},
		{"mkfs env", MkfsEnv(1700000000), "E2FSPROGS_FAKE_TIME=1700000000"},
		{"mkfs env now", MkfsEnv(0), ""},
		{"mtools env", mtoolsEnv(1700000000), "SOURCE_DATE_EPOCH=1700000000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := strings.Join(tt.got, " "); got != tt.want {
				t.Errorf("got\n  %s\nwant\n  %s", got, tt.want)
			}
		})
	}
}

func TestTools(t *testing.T) {
	want := map[string]bool{"sfdisk": true, "mkfs.ext4": true, "debugfs": true, "mformat": true,
		"mmd": true, "mcopy": true, "grub-mkimage": true, "qemu-img": true}
	got := Tools()
	if len(got) != len(want) {
		t.Fatalf("Tools() = %v", got)
	}
	for _, tool := range got {
		if !want[tool] {
			t.Errorf("unexpected tool %s", tool)
		}
	}
}
