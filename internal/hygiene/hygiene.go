// Package hygiene makes an image's root tree "golden" and checks that it is:
// no SSH host keys, an empty machine-id, no package indices or caches, no
// logs, shell history, random seeds, cloud-init state, temporary files or
// private keys, and a locked root account.
//
// The tree is untrusted: every access goes through an *os.Root, so no
// symbolic link inside the tree can lead an operation outside it, and walks
// never descend through symbolic links.
package hygiene

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Result is the outcome of one rule.
type Result struct {
	Rule   string   `json:"rule"`
	Passed bool     `json:"passed"`
	Found  []string `json:"found,omitempty"`  // offending paths, absolute within the tree
	Detail string   `json:"detail,omitempty"` // why it failed, or a note
}

// Report holds one Result per rule, in a fixed order.
type Report []Result

// Passed reports whether every rule passed.
func (r Report) Passed() bool {
	for _, res := range r {
		if !res.Passed {
			return false
		}
	}
	return true
}

// Failed returns the results that did not pass.
func (r Report) Failed() Report {
	var out Report
	for _, res := range r {
		if !res.Passed {
			out = append(out, res)
		}
	}
	return out
}

// rule finds what breaks it and knows how to repair the tree.
type rule struct {
	name string
	// find returns offending paths relative to the tree (no leading slash)
	// and an optional explanation.
	find  func(t tree) (found []string, detail string, err error)
	clean func(t tree) error
}

// Rules lists the names of the rules, in the order Check reports them.
func Rules() []string {
	names := make([]string, len(rules))
	for i, r := range rules {
		names[i] = r.name
	}
	return names
}

var rules = []rule{
	{name: "ssh-host-keys", find: findSSHHostKeys, clean: removeFound(findSSHHostKeys)},
	{name: "machine-id", find: findMachineID, clean: cleanMachineID},
	{name: "apt-lists", find: findAptLists, clean: removeFound(findAptLists)},
	{name: "apt-cache", find: findAptCache, clean: removeFound(findAptCache)},
	{name: "logs", find: findLogs, clean: cleanLogs},
	{name: "shell-history", find: findShellHistory, clean: removeFound(findShellHistory)},
	{name: "random-seed", find: findRandomSeeds, clean: removeFound(findRandomSeeds)},
	{name: "root-password", find: findRootPassword, clean: cleanRootPassword},
	{name: "cloud-init-state", find: findCloudInitState, clean: removeFound(findCloudInitState)},
	{name: "tmp", find: findTmp, clean: removeFound(findTmp)},
	{name: "secrets", find: findSecrets, clean: removeFound(findSecrets)},
	{name: "dpkg-backup", find: findDpkgBackups, clean: removeFound(findDpkgBackups)},
}

// Clean makes the tree at root golden. It is idempotent and leaves files
// that no rule concerns alone. It tries every rule and returns all errors.
func Clean(root string) error {
	t, err := openTree(root)
	if err != nil {
		return err
	}
	defer t.close()
	var errs []error
	for _, r := range rules {
		if err := r.clean(t); err != nil {
			errs = append(errs, fmt.Errorf("cleaning %s: %w", r.name, err))
		}
	}
	return errors.Join(errs...)
}

// Check inspects the tree at root and returns one Result per rule. A rule
// that cannot be checked (unreadable file, broken tree) fails with the error
// in Detail.
func Check(root string) Report {
	t, err := openTree(root)
	if err != nil {
		return failAll(err)
	}
	defer t.close()
	report := make(Report, 0, len(rules))
	for _, r := range rules {
		report = append(report, checkRule(t, r))
	}
	return report
}

func checkRule(t tree, r rule) Result {
	found, detail, err := r.find(t)
	if err != nil {
		return Result{Rule: r.name, Detail: "checking: " + err.Error()}
	}
	res := Result{Rule: r.name, Passed: len(found) == 0, Detail: detail}
	for _, f := range found {
		res.Found = append(res.Found, "/"+f)
	}
	slices.Sort(res.Found)
	return res
}

func failAll(err error) Report {
	report := make(Report, 0, len(rules))
	for _, r := range rules {
		report = append(report, Result{Rule: r.name, Detail: err.Error()})
	}
	return report
}

// removeFound makes a clean function that removes whatever find reports.
func removeFound(find func(tree) ([]string, string, error)) func(tree) error {
	return func(t tree) error {
		found, _, err := find(t)
		if err != nil {
			return err
		}
		return t.removeAll(found)
	}
}

func joinDetails(details []string) string {
	return strings.Join(details, "; ")
}
