package disk

import (
	"errors"
	"regexp"
	"testing"
)

func TestPlanLayout(t *testing.T) {
	tests := []struct {
		name     string
		size     int64
		rootSize int64
		err      error
	}{
		{"2GiB", 2 << 30, 2<<30 - 129*MiB, nil},
		{"odd sectors, 1 MiB lost to backup GPT", 3<<30 + 7*SectorSize, 3<<30 - 129*MiB, nil},
		{"room for backup GPT", 3<<30 + 40*SectorSize, 3<<30 - 128*MiB, nil},
		{"minimum", MinSize, MinRootSize, nil},
		{"one sector short", MinSize - SectorSize, 0, ErrTooSmall},
		{"tiny", 10 * MiB, 0, ErrTooSmall},
		{"unaligned", 2<<30 + 1, 0, ErrUnaligned},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := PlanLayout(tt.size, "build-1")
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err != nil {
				return
			}
			want := []Partition{
				{PartBIOSBoot, 1 * MiB, 3 * MiB, TypeBIOSBoot, l.BIOSBoot.GUID},
				{PartESP, 4 * MiB, 124 * MiB, TypeESP, l.ESP.GUID},
				{PartRoot, 128 * MiB, tt.rootSize, TypeLinux, l.Root.GUID},
			}
			for i, p := range l.Partitions() {
				if p != want[i] {
					t.Errorf("partition %d = %+v, want %+v", i, p, want[i])
				}
			}
			if end := l.Root.Start + l.Root.Size; end > tt.size-33*SectorSize {
				t.Errorf("root ends at %d, past the backup GPT of a %d-byte disk", end, tt.size)
			}
		})
	}
}

func TestPlanLayoutNoSeed(t *testing.T) {
	if _, err := PlanLayout(2<<30, ""); !errors.Is(err, ErrNoSeed) {
		t.Fatalf("err = %v, want ErrNoSeed", err)
	}
}

func TestPlanLayoutIdentifiers(t *testing.T) {
	a, _ := PlanLayout(2<<30, "build-1")
	b, _ := PlanLayout(4<<30, "build-1")
	c, _ := PlanLayout(2<<30, "build-2")
	idsA := []string{a.DiskGUID, a.RootUUID, a.RootHashSeed, a.ESPVolumeID, a.BIOSBoot.GUID, a.ESP.GUID, a.Root.GUID}
	idsB := []string{b.DiskGUID, b.RootUUID, b.RootHashSeed, b.ESPVolumeID, b.BIOSBoot.GUID, b.ESP.GUID, b.Root.GUID}
	idsC := []string{c.DiskGUID, c.RootUUID, c.RootHashSeed, c.ESPVolumeID, c.BIOSBoot.GUID, c.ESP.GUID, c.Root.GUID}
	seen := map[string]bool{}
	for i := range idsA {
		if idsA[i] != idsB[i] {
			t.Errorf("identifier %d depends on size: %s vs %s", i, idsA[i], idsB[i])
		}
		if idsA[i] == idsC[i] {
			t.Errorf("identifier %d does not depend on seed: %s", i, idsA[i])
		}
		if seen[idsA[i]] {
			t.Errorf("identifier %s repeated", idsA[i])
		}
		seen[idsA[i]] = true
	}
}

func TestDeriveUUID(t *testing.T) {
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	for _, seed := range []string{"a", "b", "build-1", "sha256:0000"} {
		if got := DeriveUUID(seed, "rootfs"); !uuid.MatchString(got) {
			t.Errorf("DeriveUUID(%q) = %q, not a v4 UUID", seed, got)
		}
	}
	if got, want := DeriveUUID("build-1", "rootfs"), DeriveUUID("build-1", "rootfs"); got != want {
		t.Errorf("not deterministic: %s vs %s", got, want)
	}
	if DeriveUUID("build-1", "rootfs") == DeriveUUID("build-1", "disk") {
		t.Error("purpose ignored")
	}
}

func TestDeriveVolumeID(t *testing.T) {
	vol := regexp.MustCompile(`^[0-9A-F]{4}-[0-9A-F]{4}$`)
	got := DeriveVolumeID("build-1", "esp")
	if !vol.MatchString(got) {
		t.Fatalf("DeriveVolumeID = %q, want XXXX-XXXX", got)
	}
	if s := volumeSerial(got); len(s) != 8 || s != got[:4]+got[5:] {
		t.Errorf("volumeSerial(%q) = %q", got, s)
	}
}
