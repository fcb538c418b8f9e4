// Package recipe is the schema of a bakery recipe: the YAML file that
// describes one image product. It decodes recipes strictly (every mistake is
// reported with file:line:column), fills defaults, applies environment
// overrides, renders image names and computes the recipe's digest over its
// canonical JSON form.
//
// testdata/full.yaml shows every field. A recipe needs only a name and a
// version:
//
//	name: debian-cloud
//	version: 0.1.0
package recipe

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"gopkg.in/yaml.v3"
)

// Output formats a recipe can ask for.
const (
	OutputQCOW2     = "qcow2"
	OutputRaw       = "raw"
	OutputRootfsTar = "rootfs-tar"
)

// Defaults filled in for fields a recipe leaves out.
const (
	DefaultDistro           = "debian"
	DefaultRelease          = "bookworm"
	DefaultArch             = "amd64"
	DefaultKernel           = "linux-image-cloud-amd64"
	DefaultQCOW2Compression = "zlib"
	DefaultDiskSize         = 4 * GiB
	DefaultNameTemplate     = "{distro}-{release}.{arch}-{version}-{serial}"
	DefaultHostname         = "debian"
)

// Recipe describes one image product. Field order is the canonical order.
type Recipe struct {
	Name             string   `yaml:"name" json:"name"`
	Distro           string   `yaml:"distro" json:"distro"`
	Release          string   `yaml:"release" json:"release"`
	Arch             string   `yaml:"arch" json:"arch"`
	Mirror           string   `yaml:"mirror,omitempty" json:"mirror"`                   // empty: the host's Debian mirror
	SecurityMirror   string   `yaml:"security_mirror,omitempty" json:"security_mirror"` // empty: derived by the caller
	Kernel           string   `yaml:"kernel" json:"kernel"`
	Packages         []string `yaml:"packages" json:"packages"`
	Outputs          []string `yaml:"outputs" json:"outputs"`
	QCOW2Compression string   `yaml:"qcow2_compression" json:"qcow2_compression"`
	DiskSize         Size     `yaml:"disk_size" json:"disk_size"`
	Version          string   `yaml:"version" json:"version"`
	NameTemplate     string   `yaml:"name_template" json:"name_template"`
	Hostname         string   `yaml:"hostname" json:"hostname"`
	Tests            []string `yaml:"tests,omitempty" json:"tests"`                 // relative to the recipe file
	Elements         []string `yaml:"elements,omitempty" json:"elements,omitempty"` // diskimage-builder elements, in order
	Config           *Config  `yaml:"config,omitempty" json:"config,omitempty"`     // the Puppet tree; nil for none

	// Release policy; empty means the defaults (see Scheme, ChannelOrder,
	// SupportPolicy), left out of the canonical form.
	VersionScheme string    `yaml:"version_scheme,omitempty" json:"version_scheme,omitempty"`
	Channels      []Channel `yaml:"channels,omitempty" json:"channels,omitempty"`
	Support       *Support  `yaml:"support,omitempty" json:"support,omitempty"`
}

// Load reads a recipe file and parses it. A file that cannot be read is
// reported as a user error wrapping the underlying fs error.
func Load(file string) (*Recipe, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		msg := err.Error()
		var pe *fs.PathError
		if errors.As(err, &pe) {
			msg = pe.Err.Error()
		}
		return nil, &Error{File: file, Msg: "reading recipe: " + msg, err: err}
	}
	return Parse(file, data)
}

// Parse decodes a recipe strictly, fills defaults and validates it. User
// mistakes come back as *Error, or as an errors.Join of several.
func Parse(file string, data []byte) (*Recipe, error) {
	top, err := document(file, data)
	if err != nil {
		return nil, err
	}
	d := decode(top)
	c := d.recipe.withDefaults() // not yet sorted: error positions follow the file
	if errs := append(d.errs, d.check(&c)...); len(errs) > 0 {
		return nil, joinErrors(file, errs)
	}
	r := c.normalized()
	return &r, nil
}

// Validate checks every field of the recipe with defaults filled in.
func (r *Recipe) Validate() error {
	c := r.withDefaults()
	return joinErrors("", checkAll(&c))
}

// withDefaults returns a copy with every empty field set to its default.
func (r *Recipe) withDefaults() Recipe {
	c := *r
	setDefault(&c.Distro, DefaultDistro)
	setDefault(&c.Release, DefaultRelease)
	setDefault(&c.Arch, DefaultArch)
	setDefault(&c.Kernel, DefaultKernel)
	setDefault(&c.QCOW2Compression, DefaultQCOW2Compression)
	setDefault(&c.NameTemplate, DefaultNameTemplate)
	setDefault(&c.Hostname, DefaultHostname)
	if c.Outputs == nil {
		c.Outputs = []string{OutputQCOW2}
	}
	if c.DiskSize == 0 {
		c.DiskSize = DefaultDiskSize
	}
	c.Config = withConfigDefaults(c.Config)
	return c
}

func setDefault(field *string, value string) {
	if *field == "" {
		*field = value
	}
}

// normalized returns the effective recipe: defaults filled, packages sorted
// and deduplicated, outputs in canonical order, no nil lists.
func (r *Recipe) normalized() Recipe {
	c := r.withDefaults()
	c.Packages = slices.Compact(slices.Sorted(slices.Values(c.Packages)))
	c.Outputs = slices.Clone(c.Outputs)
	slices.SortStableFunc(c.Outputs, func(a, b string) int { return outputRank(a) - outputRank(b) })
	c.Tests = slices.Clone(c.Tests)
	c.Elements = slices.Clone(c.Elements)
	if len(c.Elements) == 0 {
		c.Elements = nil // omitted: recipes without elements keep their digest
	}
	for _, l := range []*[]string{&c.Packages, &c.Outputs, &c.Tests} {
		if *l == nil {
			*l = []string{}
		}
	}
	return c
}

// Canonical is the recipe's canonical JSON: fixed key order, defaults
// filled, packages sorted and deduplicated, outputs in canonical order.
func (r *Recipe) Canonical() []byte {
	c := r.normalized()
	b, err := json.Marshal(&c)
	if err != nil {
		panic("recipe: marshalling canonical JSON: " + err.Error()) // only strings, lists and Size
	}
	return b
}

// Digest is "sha256:" followed by the hex SHA-256 of Canonical().
func (r *Recipe) Digest() string {
	sum := sha256.Sum256(r.Canonical())
	return "sha256:" + hex.EncodeToString(sum[:])
}

// YAML renders the effective recipe (defaults filled) as YAML.
func (r *Recipe) YAML() []byte {
	c := r.normalized()
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&c); err != nil {
		panic("recipe: marshalling YAML: " + err.Error()) // only strings, lists and Size
	}
	return b.Bytes()
}

// TestPaths resolves the recipe's test scripts against the directory of the
// recipe file. Absolute entries are kept; the results are absolute whenever
// the working directory is known.
func (r *Recipe) TestPaths(recipeDir string) []string {
	paths := make([]string, len(r.Tests))
	for i, t := range r.Tests {
		p := t
		if !filepath.IsAbs(p) {
			p = filepath.Join(recipeDir, p)
		}
		if abs, err := filepath.Abs(p); err == nil {
			p = abs
		}
		paths[i] = p
	}
	return paths
}
