package boottest

import (
	"fmt"
	"strings"
)

// Names of the checks that compare boots of the same image.
const (
	CheckHostKeysUnique  = "ssh-host-keys-unique" // each boot made its own host keys
	CheckMachineIDUnique = "machine-id-unique"    // each boot made its own machine ID
)

// crossBootChecks compare what the boots learnt: two machines from one
// image must not share host keys or machine IDs (that would mean they were
// baked into the image). With fewer than two boots that answered they are
// skipped.
func crossBootChecks(boots []Boot) []Check {
	return []Check{
		uniqueAcross(CheckHostKeysUnique, "SSH host key", boots, func(b Boot) string { return b.HostKey }),
		uniqueAcross(CheckMachineIDUnique, "machine ID", boots, func(b Boot) string { return b.MachineID }),
	}
}

func uniqueAcross(name, what string, boots []Boot, value func(Boot) string) Check {
	c := Check{Name: name}
	seen := map[string]string{} // value → firmware
	var shown []string
	for _, b := range boots {
		v := value(b)
		if !b.Passed || v == "" {
			continue
		}
		if first, dup := seen[v]; dup {
			c.Evidence = fmt.Sprintf("the %s and %s boots share the %s %s", first, b.Firmware, what, v)
			return c
		}
		seen[v] = string(b.Firmware)
		shown = append(shown, fmt.Sprintf("%s %s", b.Firmware, v))
	}
	if len(seen) < 2 {
		c.Skipped = true
		c.Evidence = fmt.Sprintf("needs two boots that answered, had %d (test with --firmware bios,uefi)", len(seen))
		return c
	}
	c.Passed = true
	c.Evidence = fmt.Sprintf("%d boots, %d different: %s", len(seen), len(seen), strings.Join(shown, "; "))
	return c
}
