package configtree

// Lock is the pinned record of a tree: what a bakery lock embeds so that a
// rebuild uses exactly these inputs (a Puppetfile.lock for the whole tree).
type Lock struct {
	Repo    string         `json:"repo"`
	Ref     string         `json:"ref"`
	Commit  string         `json:"commit"`
	Tag     string         `json:"tag,omitempty"`
	Modules []LockedModule `json:"modules"`
}

// LockedModule pins one Puppetfile module: a commit for git modules, a
// content digest for :path directories and tarballs.
type LockedModule struct {
	Name    string `json:"name"`
	Source  string `json:"source"`
	Ref     string `json:"ref,omitempty"`
	Commit  string `json:"commit,omitempty"`
	SHA256  string `json:"sha256,omitempty"`
	Version string `json:"version,omitempty"`
}

// Lock returns the tree's pinned record.
func (t *Tree) Lock() Lock {
	l := Lock{Repo: t.Repo, Ref: t.Ref, Commit: t.Commit, Tag: t.Tag, Modules: []LockedModule{}}
	for _, m := range t.Modules {
		l.Modules = append(l.Modules, LockedModule{
			Name: m.Name, Source: m.Source(), Ref: m.Spec.Ref, Commit: m.Commit, SHA256: m.SHA256, Version: m.Version,
		})
	}
	return l
}
