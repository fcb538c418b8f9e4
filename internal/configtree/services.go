package configtree

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// Service is one row of the service matrix: a backend module pinned in the
// Puppetfile and the tree's front-end classes and defines that use it.
type Service struct {
	Module  string   `json:"module"`
	Version string   `json:"version,omitempty"`
	Source  string   `json:"source"`
	Ref     string   `json:"ref,omitempty"`
	Commit  string   `json:"commit,omitempty"`
	SHA256  string   `json:"sha256,omitempty"`
	UsedBy  []string `json:"used_by"`
}

var (
	declPattern = regexp.MustCompile(`(?m)^\s*(?:class|define)\s+(?:::)?([a-z][a-z0-9_]*(?:::[a-z][a-z0-9_]*)*)`)
	refPatterns = []*regexp.Regexp{
		regexp.MustCompile(`\b(?:include|require|contain)\s+(?:::)?([a-z][a-z0-9_]*)(?:::[a-z0-9_]+)*`),
		regexp.MustCompile(`\bclass\s*\{\s*['"](?:::)?([a-z][a-z0-9_]*)(?:::[a-z0-9_]+)*['"]\s*:`),
		regexp.MustCompile(`(?:^|[^a-z0-9_:$])(?:::)?([a-z][a-z0-9_]*)(?:::[a-z][a-z0-9_]*)+\s*\{`),
	}
	commentPattern = regexp.MustCompile(`(?m)#.*$`)
)

// Services scans the front-end manifests (the tree's site/ and
// modules/site*/ directories) and maps each Puppetfile module to the
// classes and defines that include, declare or use it.
func (t *Tree) Services() ([]Service, error) {
	uses, err := scanFrontEnds(t.Dir)
	if err != nil {
		return nil, err
	}
	out := []Service{}
	for _, m := range t.Modules {
		used := append([]string{}, slices.Sorted(slices.Values(uses[m.Name]))...)
		out = append(out, Service{Module: m.Name, Version: m.Version, Source: m.Source(), Ref: m.Spec.Ref,
			Commit: m.Commit, SHA256: m.SHA256, UsedBy: slices.Compact(used)})
	}
	return out, nil
}

// frontEndDirs are the tree's own module directories.
func frontEndDirs(tree string) []string {
	dirs := []string{filepath.Join(tree, "site")}
	more, _ := filepath.Glob(filepath.Join(tree, "modules", "site*"))
	return append(dirs, more...)
}

// scanFrontEnds returns, for each referenced module, the front-end classes
// and defines that reference it.
func scanFrontEnds(tree string) (map[string][]string, error) {
	uses := map[string][]string{}
	for _, dir := range frontEndDirs(tree) {
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".pp") {
				return ignoreMissing(err)
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			scanManifest(string(data), uses)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("scanning front-end manifests in %s: %w", dir, err)
		}
	}
	return uses, nil
}

func ignoreMissing(err error) error {
	if os.IsNotExist(err) {
		return nil
	}
	return err
}

// scanManifest attributes each module reference to the class or define
// declared before it in the file.
func scanManifest(src string, uses map[string][]string) {
	src = commentPattern.ReplaceAllString(src, "")
	decls := declPattern.FindAllStringSubmatchIndex(src, -1)
	for i, d := range decls {
		end := len(src)
		if i+1 < len(decls) {
			end = decls[i+1][0]
		}
		name := src[d[2]:d[3]]
		for _, mod := range referencedModules(src[d[1]:end]) {
			if mod != strings.Split(name, "::")[0] {
				uses[mod] = append(uses[mod], name)
			}
		}
	}
}

func referencedModules(body string) []string {
	var mods []string
	for _, re := range refPatterns {
		for _, m := range re.FindAllStringSubmatch(body, -1) {
			mods = append(mods, m[1])
		}
	}
	return mods
}
