// Package apt knows Debian repositories: the deb822 control-file format
// (dpkg status, Release, Packages, .sources) and the host's APT sources,
// from which it discovers the Debian mirror to build from.
package apt
