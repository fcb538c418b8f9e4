package release

import (
	"fmt"
	"strings"

	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/version"
)

// UpgradePath returns the hops from one of the product's versions to
// another, over its good (not revoked) stable versions.
func (s State) UpgradePath(from, to catalog.Image, allowMajor bool) ([]version.Hop, error) {
	fv, err := s.Version(from)
	if err != nil {
		return nil, err
	}
	tv, err := s.Version(to)
	if err != nil {
		return nil, err
	}
	var avail []version.Version
	for _, img := range s.Images {
		if v, err := s.Version(img); err == nil && !s.revoked(img.Name) {
			avail = append(avail, v)
		}
	}
	return version.UpgradePath(fv, tv, avail, allowMajor)
}

// Pin is one product's pinned version for deployers.
type Pin struct {
	Product     string `yaml:"-" json:"product"`
	Version     string `yaml:"version" json:"version"`
	Image       string `yaml:"image" json:"image"`
	BuildID     string `yaml:"build_id" json:"build_id"`
	QCOW2SHA256 string `yaml:"qcow2_sha256" json:"qcow2_sha256"`
	Channel     string `yaml:"channel,omitempty" json:"channel,omitempty"`
	Override    bool   `yaml:"override,omitempty" json:"override,omitempty"` // from BAKERY_VERSIONS_OVERRIDE
}

// Pin returns the product's pin on channel, or for override (a version or
// image name, from BAKERY_VERSIONS_OVERRIDE) when it is set.
func (s State) Pin(channel, override string) (Pin, error) {
	var img catalog.Image
	switch {
	case override != "":
		found, err := s.Find(override)
		if err != nil {
			return Pin{}, err
		}
		img = found
	default:
		name := s.head(channel)
		if name == "" {
			return Pin{}, fmt.Errorf("%s has no version on channel %s", s.Product, channel)
		}
		found, ok := s.image(name)
		if !ok {
			return Pin{}, fmt.Errorf("%s: channel %s points at %s, which is not in the catalog", s.Product, channel, name)
		}
		img = found
	}
	if s.revoked(img.Name) {
		return Pin{}, fmt.Errorf("%s is revoked (%s): it is never pinned", img.Name, s.Marks[img.Name].RevokedReason)
	}
	p := Pin{Product: s.Product, Version: img.Version, Image: img.Name, BuildID: img.BuildID, Channel: channel, Override: override != ""}
	if override != "" {
		p.Channel = ""
	}
	for _, a := range img.Artifacts {
		if a.Kind == catalog.KindQcow2 {
			p.QCOW2SHA256 = strings.TrimPrefix(a.Digest, "sha256:")
		}
	}
	return p, nil
}

// ParseOverrides reads BAKERY_VERSIONS_OVERRIDE's inline form:
// "product=version,product=version".
func ParseOverrides(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		product, ver, ok := strings.Cut(part, "=")
		product, ver = strings.TrimSpace(product), strings.TrimSpace(ver)
		if !ok || product == "" || ver == "" {
			return nil, fmt.Errorf("version override %q: want product=version", part)
		}
		if _, dup := out[product]; dup {
			return nil, fmt.Errorf("version override: %s given twice", product)
		}
		out[product] = ver
	}
	return out, nil
}
