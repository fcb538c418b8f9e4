package configtree

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/bakery-dev/bakery/internal/runner"
)

// ErrRefNotFound is returned when a repository has no tag, branch or commit
// of the given name.
var ErrRefNotFound = errors.New("no such tag, branch or commit")

// gitEnv keeps git from ever waiting for a password on a terminal.
var gitEnv = []string{"GIT_TERMINAL_PROMPT=0", "GIT_ASKPASS=/bin/false", "LC_ALL=C"}

var commitPattern = regexp.MustCompile(`^[0-9a-f]{40}([0-9a-f]{24})?$`)

// cloneArgs mirrors a repository (URL or local path) into dir.
func cloneArgs(repo, dir string) []string {
	return []string{"git", "clone", "--mirror", "--quiet", "--", repo, dir}
}

// fetchArgs updates a mirror from its origin: every branch and tag, moved
// or deleted ones included.
func fetchArgs(dir string) []string {
	return []string{"git", "--git-dir=" + dir, "fetch", "--prune", "--force", "--quiet", "origin"}
}

// revParseArgs resolves rev to a commit id in the mirror at dir.
func revParseArgs(dir, rev string) []string {
	return []string{"git", "--git-dir=" + dir, "rev-parse", "--verify", "--quiet", "--end-of-options", rev + "^{commit}"}
}

// describeArgs names the tag a commit is at or descends from.
func describeArgs(dir, commit string) []string {
	return []string{"git", "--git-dir=" + dir, "describe", "--tags", "--abbrev=12", commit}
}

// archiveArgs writes the tree of a commit as a tar file.
func archiveArgs(dir, commit, tarball string) []string {
	return []string{"git", "--git-dir=" + dir, "archive", "--format=tar", "--output=" + tarball, commit}
}

// untarArgs unpacks a tar file into dir.
func untarArgs(tarball, dir string) []string {
	return []string{"tar", "--extract", "--file=" + tarball, "--directory=" + dir, "--no-same-owner"}
}

// refCandidates are the revisions tried for a ref, in order: a tag, a
// branch, then a commit id (full or abbreviated).
func refCandidates(ref string) []string {
	return []string{"refs/tags/" + ref, "refs/heads/" + ref, ref}
}

// git runs repository commands against the mirror cache.
type git struct {
	cache  string // directory holding the mirrors and exported trees
	runner runner.Runner
}

func (g git) run(ctx context.Context, args []string) (string, error) {
	out, err := g.runner.Run(ctx, runner.Cmd{Args: args, Env: gitEnv})
	return strings.TrimSpace(string(out)), err
}

// mirrorDir is where the mirror of a repository lives in the cache.
func (g git) mirrorDir(repo string) string {
	sum := sha256.Sum256([]byte(repo))
	base := strings.TrimSuffix(filepath.Base(strings.TrimRight(repo, "/")), ".git")
	return filepath.Join(g.cache, "git", safeName(base)+"-"+hex.EncodeToString(sum[:6])+".git")
}

func safeName(s string) string {
	s = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
	if len(s) > 40 {
		s = s[:40]
	}
	return s
}

// mirror makes or updates the cached mirror of repo and returns its path.
// A new mirror is cloned beside its final place and renamed into it, so a
// failed clone leaves nothing behind.
func (g git) mirror(ctx context.Context, repo string) (string, error) {
	dir := g.mirrorDir(repo)
	if _, err := os.Stat(dir); err == nil {
		if _, err := g.run(ctx, fetchArgs(dir)); err != nil {
			return "", fmt.Errorf("fetching %s: %w", repo, err)
		}
		return dir, nil
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", fmt.Errorf("creating git cache: %w", err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".clone-")
	if err != nil {
		return "", fmt.Errorf("creating git cache: %w", err)
	}
	defer os.RemoveAll(tmp)
	if _, err := g.run(ctx, cloneArgs(repo, filepath.Join(tmp, "m.git"))); err != nil {
		return "", fmt.Errorf("cloning %s: %w", repo, err)
	}
	if err := os.Rename(filepath.Join(tmp, "m.git"), dir); err != nil && !os.IsExist(err) {
		if _, serr := os.Stat(dir); serr != nil { // another build may have won the race
			return "", fmt.Errorf("caching %s: %w", repo, err)
		}
	}
	return dir, nil
}

// resolve turns a tag, branch or commit into a full commit id.
func (g git) resolve(ctx context.Context, repo, dir, ref string) (string, error) {
	for _, rev := range refCandidates(ref) {
		out, err := g.run(ctx, revParseArgs(dir, rev))
		if err == nil && commitPattern.MatchString(out) {
			return out, nil
		}
		if err != nil && ctx.Err() != nil {
			return "", ctx.Err()
		}
	}
	return "", fmt.Errorf("resolving %q in %s: %w", ref, repo, ErrRefNotFound)
}

// describe returns the tag at commit ("0.1.0") or the nearest one with the
// distance and commit ("0.1.0-3-g0123456789ab"); "" when there is no tag.
func (g git) describe(ctx context.Context, dir, commit string) string {
	out, err := g.run(ctx, describeArgs(dir, commit))
	if err != nil {
		return ""
	}
	return out
}

// export unpacks the tree of commit into the cache (once per commit) and
// returns its directory. The export is made beside its final place and
// renamed, so it is either complete or absent.
func (g git) export(ctx context.Context, dir, commit string) (string, error) {
	dest := filepath.Join(g.cache, "trees", commit)
	if _, err := os.Stat(dest); err == nil {
		return dest, nil
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return "", fmt.Errorf("creating tree cache: %w", err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dest), ".export-")
	if err != nil {
		return "", fmt.Errorf("creating tree cache: %w", err)
	}
	defer os.RemoveAll(tmp)
	tarball, tree := filepath.Join(tmp, "tree.tar"), filepath.Join(tmp, "tree")
	if err := os.Mkdir(tree, 0o755); err != nil {
		return "", fmt.Errorf("exporting %s: %w", commit, err)
	}
	if _, err := g.run(ctx, archiveArgs(dir, commit, tarball)); err != nil {
		return "", fmt.Errorf("exporting %s: %w", commit, err)
	}
	if _, err := g.run(ctx, untarArgs(tarball, tree)); err != nil {
		return "", fmt.Errorf("unpacking %s: %w", commit, err)
	}
	if err := os.Rename(tree, dest); err != nil {
		if _, serr := os.Stat(dest); serr != nil {
			return "", fmt.Errorf("caching tree %s: %w", commit, err)
		}
	}
	return dest, nil
}

// versionFromTag turns a tag into a version: a leading "v" before a digit
// is dropped (v1.2.0 → 1.2.0).
func versionFromTag(tag string) string {
	if len(tag) > 1 && (tag[0] == 'v' || tag[0] == 'V') && tag[1] >= '0' && tag[1] <= '9' {
		return tag[1:]
	}
	return tag
}
