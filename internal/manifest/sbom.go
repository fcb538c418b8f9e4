package manifest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
)

// ErrInvalidOptions is wrapped when SBOMOptions lack a required value.
var ErrInvalidOptions = errors.New("invalid SBOM options")

// SBOMOptions describe the image an SBOM is about.
type SBOMOptions struct {
	Name      string    // image name; names the document and its root package
	Namespace string    // unique URI of this document, without '#'
	Created   time.Time // written in UTC, to the second
	Creator   string    // tool and version, e.g. "bakery-1.4.0"; written "Tool: <Creator>"
	Distro    string    // purl namespace and supplier; default "debian"
	Release   string    // codename, for the purl distro qualifier (debian-bookworm)
}

// Validate reports missing or malformed options.
func (o SBOMOptions) Validate() error {
	switch {
	case o.Name == "":
		return fmt.Errorf("%w: no name", ErrInvalidOptions)
	case o.Namespace == "" || strings.Contains(o.Namespace, "#"):
		return fmt.Errorf("%w: namespace %q must be a URI without '#'", ErrInvalidOptions, o.Namespace)
	case o.Created.IsZero():
		return fmt.Errorf("%w: no creation time", ErrInvalidOptions)
	}
	return nil
}

// Fixed SPDX values.
const (
	spdxVersion   = "SPDX-2.3"
	dataLicense   = "CC0-1.0"
	documentID    = "SPDXRef-DOCUMENT"
	imageID       = "SPDXRef-Image"
	packagePrefix = "SPDXRef-Package-"
	noAssertion   = "NOASSERTION"
)

type spdxDocument struct {
	SPDXVersion       string             `json:"spdxVersion"`
	DataLicense       string             `json:"dataLicense"`
	SPDXID            string             `json:"SPDXID"`
	Name              string             `json:"name"`
	DocumentNamespace string             `json:"documentNamespace"`
	CreationInfo      spdxCreationInfo   `json:"creationInfo"`
	Packages          []spdxPackage      `json:"packages"`
	Relationships     []spdxRelationship `json:"relationships"`
}

type spdxCreationInfo struct {
	Created  string   `json:"created"`
	Creators []string `json:"creators"`
}

type spdxPackage struct {
	SPDXID                string            `json:"SPDXID"`
	Name                  string            `json:"name"`
	VersionInfo           string            `json:"versionInfo,omitempty"`
	Supplier              string            `json:"supplier,omitempty"`
	DownloadLocation      string            `json:"downloadLocation"`
	FilesAnalyzed         bool              `json:"filesAnalyzed"`
	SourceInfo            string            `json:"sourceInfo,omitempty"`
	LicenseConcluded      string            `json:"licenseConcluded"`
	LicenseDeclared       string            `json:"licenseDeclared"`
	CopyrightText         string            `json:"copyrightText"`
	PrimaryPackagePurpose string            `json:"primaryPackagePurpose,omitempty"`
	ExternalRefs          []spdxExternalRef `json:"externalRefs,omitempty"`
}

type spdxExternalRef struct {
	ReferenceCategory string `json:"referenceCategory"`
	ReferenceType     string `json:"referenceType"`
	ReferenceLocator  string `json:"referenceLocator"`
}

type spdxRelationship struct {
	SPDXElementID      string `json:"spdxElementId"`
	RelationshipType   string `json:"relationshipType"`
	RelatedSPDXElement string `json:"relatedSpdxElement"`
}

// SBOM returns the SPDX 2.3 JSON document for an image holding pkgs: a root
// package for the image, which the document DESCRIBES and which CONTAINS
// each Debian package. The output depends only on pkgs (in any order) and o.
func SBOM(pkgs []Package, o SBOMOptions) ([]byte, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.Distro == "" {
		o.Distro = "debian"
	}
	creator := o.Creator
	if creator == "" {
		creator = "bakery"
	}
	doc := spdxDocument{
		SPDXVersion: spdxVersion, DataLicense: dataLicense, SPDXID: documentID,
		Name: o.Name, DocumentNamespace: o.Namespace,
		CreationInfo: spdxCreationInfo{
			Created:  o.Created.UTC().Format(time.RFC3339),
			Creators: []string{"Tool: " + creator},
		},
		Packages:      []spdxPackage{imagePackage(o.Name)},
		Relationships: []spdxRelationship{{documentID, "DESCRIBES", imageID}},
	}
	pkgs = slices.Clone(pkgs)
	slices.SortFunc(pkgs, comparePackages)
	for i, id := range packageIDs(pkgs) {
		doc.Packages = append(doc.Packages, debPackage(pkgs[i], id, o))
		doc.Relationships = append(doc.Relationships, spdxRelationship{imageID, "CONTAINS", id})
	}
	data, err := encodeJSON(doc)
	if err != nil {
		return nil, fmt.Errorf("encoding SBOM: %w", err)
	}
	return data, nil
}

func imagePackage(name string) spdxPackage {
	return spdxPackage{
		SPDXID: imageID, Name: name, DownloadLocation: noAssertion,
		LicenseConcluded: noAssertion, LicenseDeclared: noAssertion, CopyrightText: noAssertion,
		PrimaryPackagePurpose: "OPERATING-SYSTEM",
	}
}

func debPackage(p Package, id string, o SBOMOptions) spdxPackage {
	sp := spdxPackage{
		SPDXID: id, Name: p.Name, VersionInfo: p.Version,
		Supplier: "Organization: " + supplierName(o.Distro), DownloadLocation: noAssertion,
		LicenseConcluded: noAssertion, LicenseDeclared: noAssertion, CopyrightText: noAssertion,
		ExternalRefs: []spdxExternalRef{{"PACKAGE-MANAGER", "purl", PURL(p, o.Distro, o.Release)}},
	}
	if p.Source != "" && p.Source != p.Name {
		sp.SourceInfo = "built package from: " + p.Source
	}
	return sp
}

func supplierName(distro string) string {
	r := []rune(distro)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

// packageIDs gives each package (sorted) a unique SPDX identifier made of
// the allowed characters: SPDXRef-Package-<name>, with the architecture
// added when a name is installed for several, and a counter on collisions.
func packageIDs(pkgs []Package) []string {
	count := map[string]int{}
	for _, p := range pkgs {
		count[p.Name]++
	}
	used := map[string]bool{imageID: true}
	ids := make([]string, len(pkgs))
	for i, p := range pkgs {
		base := p.Name
		if count[p.Name] > 1 {
			base += "-" + p.Arch
		}
		id := packagePrefix + sanitizeID(base)
		for n := 2; used[id]; n++ {
			id = fmt.Sprintf("%s%s-%d", packagePrefix, sanitizeID(base), n)
		}
		used[id] = true
		ids[i] = id
	}
	return ids
}

// sanitizeID replaces characters SPDX identifiers may not hold with '-'.
func sanitizeID(s string) string {
	return strings.Map(func(r rune) rune {
		if isIDChar(r) {
			return r
		}
		return '-'
	}, s)
}

func isIDChar(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-'
}

// PURL returns the package URL of a Debian package:
// pkg:deb/<distro>/<name>@<version>?arch=<arch>&distro=<distro>-<release>.
func PURL(p Package, distro, release string) string {
	if distro == "" {
		distro = "debian"
	}
	var b strings.Builder
	b.WriteString("pkg:deb/" + purlEscape(distro) + "/" + purlEscape(p.Name))
	if p.Version != "" {
		b.WriteString("@" + purlEscape(p.Version))
	}
	var q []string
	if p.Arch != "" {
		q = append(q, "arch="+purlEscape(p.Arch))
	}
	if release != "" {
		q = append(q, "distro="+purlEscape(distro+"-"+release))
	}
	if len(q) > 0 {
		b.WriteString("?" + strings.Join(q, "&"))
	}
	return b.String()
}

// purlEscape percent-encodes all but the characters the purl specification
// leaves as they are: ASCII letters and digits, ".-_~" and ':'.
func purlEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x80 && (isIDChar(rune(c)) || c == '_' || c == '~' || c == ':') {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}
