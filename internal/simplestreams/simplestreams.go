// Package simplestreams reads and writes simplestreams, the catalog format
// Canonical's simplestreams tools (sstream-query, sstream-mirror), OpenStack
// Glance's image sync and LXD/Incus remotes read: an index (format
// "index:1.0") naming products files (format "products:1.0"), each holding
// products → versions keyed by a sortable serial → items (files with
// ftype, path, sha256 and size).
//
// The wire types keep the ecosystem's shapes (the names follow LXD's
// shared/simplestreams: StreamIndex, Products, Product, ProductVersion,
// ProductVersionItem); they marshal with a stable key order (struct fields
// in declaration order, map keys sorted). Generate turns catalog values
// into documents without I/O; Sign and Verify wrap documents in OpenPGP
// cleartext signatures (.sjson); Client reads a tree from a directory or
// over HTTP, verifying signatures and the index's expiry.
package simplestreams

import (
	"errors"
	"time"
)

// Formats and datatypes.
const (
	FormatIndex    = "index:1.0"
	FormatProducts = "products:1.0"
	// DatatypeDownloads is the datatype of streams of downloadable files.
	DatatypeDownloads = "image-downloads"
	// DatatypeIDs is the datatype of streams of image IDs in a cloud.
	DatatypeIDs = "image-ids"
)

// TimeLayout is the layout of "updated" and "expires": RFC 2822, as every
// simplestreams producer writes it ("Sat, 04 May 2013 01:58:57 +0000").
const TimeLayout = time.RFC1123Z

// IndexPath is where a tree's index lives, relative to the mirror root.
const IndexPath = "streams/v1/index.json"

var (
	// ErrFormat is returned for a document that is not simplestreams of
	// the expected format.
	ErrFormat = errors.New("not a simplestreams document")
	// ErrSignature is returned for a signed document whose signature is
	// missing, malformed, or not made by a trusted key over its content.
	ErrSignature = errors.New("bad simplestreams signature")
	// ErrExpired is returned for a signed index whose "expires" has passed
	// (or that has none).
	ErrExpired = errors.New("simplestreams index expired")
)

// StreamIndex is an index document (streams/v1/index.json).
type StreamIndex struct {
	Index   map[string]StreamIndexEntry `json:"index"` // by content_id
	Updated string                      `json:"updated,omitempty"`
	Expires string                      `json:"expires,omitempty"` // signed indexes; TimeLayout
	Format  string                      `json:"format"`
}

// StreamIndexEntry points at one products file.
type StreamIndexEntry struct {
	Datatype string   `json:"datatype"`
	Path     string   `json:"path"` // relative to the mirror root
	Updated  string   `json:"updated,omitempty"`
	Products []string `json:"products"`
	Format   string   `json:"format"`
}

// Products is a products document (one stream of one datatype).
type Products struct {
	ContentID string             `json:"content_id"`
	Datatype  string             `json:"datatype"`
	Format    string             `json:"format"`
	Updated   string             `json:"updated,omitempty"`
	Products  map[string]Product `json:"products"`
}

// Product is one product: one OS release on one architecture, with its
// versions by serial. Fields set on a product apply to all its versions
// and items (simplestreams tools flatten them when they query).
type Product struct {
	Aliases      string                    `json:"aliases,omitempty"` // comma-separated, LXD style
	Arch         string                    `json:"arch,omitempty"`
	OS           string                    `json:"os,omitempty"`
	Release      string                    `json:"release,omitempty"`
	ReleaseTitle string                    `json:"release_title,omitempty"`
	Version      string                    `json:"version,omitempty"` // the OS version, e.g. "12"
	Stream       string                    `json:"stream,omitempty"`
	Build        string                    `json:"build,omitempty"`
	Endpoint     string                    `json:"endpoint,omitempty"` // image-ids
	Region       string                    `json:"region,omitempty"`   // image-ids
	VirtType     string                    `json:"virt_type,omitempty"`
	Versions     map[string]ProductVersion `json:"versions"`
}

// ProductVersion is one build of a product, keyed by its serial.
type ProductVersion struct {
	Items      map[string]ProductVersionItem `json:"items"`
	Label      string                        `json:"label,omitempty"`
	Pubname    string                        `json:"pubname,omitempty"`
	Version    string                        `json:"version,omitempty"`     // the image's own version
	SupportEOL string                        `json:"support_eol,omitempty"` // YYYY-MM-DD
}

// ProductVersionItem is one file (image-downloads) or one image ID
// (image-ids) of a version.
type ProductVersionItem struct {
	FType     string `json:"ftype,omitempty"`
	Path      string `json:"path,omitempty"` // relative to the mirror root
	SHA256    string `json:"sha256,omitempty"`
	MD5       string `json:"md5,omitempty"`
	Size      int64  `json:"size,omitempty"`
	Name      string `json:"name,omitempty"`
	ID        string `json:"id,omitempty"`         // image-ids
	RootStore string `json:"root_store,omitempty"` // image-ids
}
