package apt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/bakery-dev/bakery/internal/artifact"
	"github.com/bakery-dev/bakery/internal/artifact/fsstore"
	"github.com/bakery-dev/bakery/internal/runner"
)

// ErrMissingInput is wrapped when a pinned package is neither in the input
// archive nor on any mirror.
var ErrMissingInput = errors.New("input not available")

// Archive is the input archive: every .deb a build installs, kept by its
// sha256 so that a locked image rebuilds after the mirror has moved on.
type Archive struct {
	store   *fsstore.Store
	control string // cache of control stanzas, by .deb digest
	Client  *http.Client
	Runner  runner.Runner
	Logger  *slog.Logger
	Workers int // parallel downloads; default 4
}

// OpenArchive opens (creating) the archive rooted at dir.
func OpenArchive(dir string, r runner.Runner, log *slog.Logger) (*Archive, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	st, err := fsstore.New(filepath.Join(dir, "debs"))
	if err != nil {
		return nil, fmt.Errorf("opening input archive: %w", err)
	}
	ctl := filepath.Join(dir, "control")
	if err := os.MkdirAll(ctl, 0o755); err != nil {
		return nil, fmt.Errorf("opening input archive: %w", err)
	}
	return &Archive{store: st, control: ctl, Client: http.DefaultClient, Runner: r, Logger: log, Workers: 4}, nil
}

// Input is one pinned .deb and where it may be downloaded from.
type Input struct {
	Name, Version, Arch string
	SHA256              string // hex
	Size                int64
	URLs                []string // tried in order when the archive lacks it
}

func (in Input) String() string { return fmt.Sprintf("%s %s (%s)", in.Name, in.Version, in.Arch) }

func (in Input) digest() string { return "sha256:" + in.SHA256 }

// EnsureResult counts what Ensure did.
type EnsureResult struct {
	Present, Fetched, Discarded int
	FetchedBytes                int64
}

// Ensure makes every input present and verified in the archive: a stored
// file is re-hashed, and one whose content no longer matches is discarded
// and fetched again; a missing one is downloaded (its digest is checked
// before it is stored). It fails naming every input it could not get.
func (a *Archive) Ensure(ctx context.Context, inputs []Input, done func(n int)) (EnsureResult, error) {
	var (
		mu   sync.Mutex
		res  EnsureResult
		errs []error
		wg   sync.WaitGroup
		jobs = make(chan Input)
	)
	for range max(1, a.Workers) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for in := range jobs {
				r, err := a.ensureOne(ctx, in)
				mu.Lock()
				res.Present, res.Fetched, res.Discarded = res.Present+r.Present, res.Fetched+r.Fetched, res.Discarded+r.Discarded
				res.FetchedBytes += r.FetchedBytes
				if err != nil {
					errs = append(errs, err)
				}
				if done != nil {
					done(res.Present + res.Fetched + len(errs))
				}
				mu.Unlock()
			}
		}()
	}
	for _, in := range inputs {
		jobs <- in
	}
	close(jobs)
	wg.Wait()
	return res, errors.Join(errs...)
}

func (a *Archive) ensureOne(ctx context.Context, in Input) (EnsureResult, error) {
	var res EnsureResult
	ok, discarded, err := a.verified(in)
	if err != nil {
		return res, err
	}
	if ok {
		res.Present = 1
		return res, nil
	}
	if discarded {
		res.Discarded = 1
	}
	if err := a.fetch(ctx, in); err != nil {
		return res, err
	}
	res.Fetched, res.FetchedBytes = 1, in.Size
	return res, nil
}

// verified reports whether the archive holds the input with the right
// content; a stored file that fails the check is removed (discarded).
func (a *Archive) verified(in Input) (ok, discarded bool, err error) {
	path, err := a.store.Path(in.digest())
	if errors.Is(err, artifact.ErrNotFound) {
		return false, false, nil
	}
	if err != nil {
		return false, false, fmt.Errorf("%s: %w", in, err)
	}
	got, _, err := artifact.DigestFile(path)
	if err != nil {
		return false, false, fmt.Errorf("%s: %w", in, err)
	}
	if got == in.digest() {
		return true, false, nil
	}
	a.Logger.Warn("input archive entry corrupt: discarding and fetching again", "package", in.String(), "want", in.digest(), "got", got)
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, false, fmt.Errorf("discarding corrupt %s: %w", in, err)
	}
	return false, true, nil
}

func (a *Archive) fetch(ctx context.Context, in Input) error {
	if len(in.URLs) == 0 {
		return fmt.Errorf("%w: %s is not in the input archive and no mirror is known", ErrMissingInput, in)
	}
	var tries []string
	for _, u := range in.URLs {
		err := a.fetchFrom(ctx, u, in)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		tries = append(tries, err.Error())
	}
	return fmt.Errorf("%w: %s is not in the input archive and no mirror has it (%s)", ErrMissingInput, in, strings.Join(tries, "; "))
}

func (a *Archive) fetchFrom(ctx context.Context, url string, in Input) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", url, err)
	}
	resp, err := a.Client.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	body := io.LimitReader(resp.Body, in.Size+1)
	if err := a.store.Put(ctx, in.digest(), body); err != nil {
		return fmt.Errorf("%s: %w", url, err)
	}
	return nil
}

// Path returns the archived file of a verified input.
func (a *Archive) Path(sha256hex string) (string, error) {
	return a.store.Path("sha256:" + sha256hex)
}

// Control returns the control stanza of an archived .deb, read once with
// dpkg-deb and cached by digest.
func (a *Archive) Control(ctx context.Context, sha256hex string) (Paragraph, error) {
	cache := filepath.Join(a.control, sha256hex)
	if data, err := os.ReadFile(cache); err == nil {
		if paras, err := ParseParagraphs(strings.NewReader(string(data))); err == nil && len(paras) == 1 {
			return paras[0], nil
		}
	}
	deb, err := a.Path(sha256hex)
	if err != nil {
		return Paragraph{}, err
	}
	out, err := a.Runner.Run(ctx, runner.Cmd{Args: []string{"dpkg-deb", "--field", deb}})
	if err != nil {
		return Paragraph{}, fmt.Errorf("reading control of %s: %w", deb, err)
	}
	paras, err := ParseParagraphs(strings.NewReader(string(out)))
	if err != nil || len(paras) != 1 {
		return Paragraph{}, fmt.Errorf("reading control of %s: want one stanza (%v)", deb, err)
	}
	if err := writeCacheFile(cache, out); err != nil {
		a.Logger.Warn("caching control stanza", "err", err)
	}
	return paras[0], nil
}

func writeCacheFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".ctl-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
