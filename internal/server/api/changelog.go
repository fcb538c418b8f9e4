package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/configtree"
	"github.com/bakery-dev/bakery/internal/lock"
)

// maxLock bounds a stored lock read for a changelog.
const maxLock = 64 << 20

// Changelog compares two images of a product: their stored locks when
// both have one (packages, tools and the config tree's commits), else
// their package lists. See Service.
func (l *Local) Changelog(ctx context.Context, product, from, to string) (Changelog, error) {
	if from == "" || to == "" {
		return Changelog{}, fmt.Errorf("%w: a changelog needs from and to", ErrInvalid)
	}
	st, err := l.state(ctx, product)
	if err != nil {
		return Changelog{}, err
	}
	a, err := st.Find(from)
	if err != nil {
		return Changelog{}, err
	}
	b, err := st.Find(to)
	if err != nil {
		return Changelog{}, err
	}
	out := Changelog{Product: product, From: a.Name, To: b.Name}
	la, errA := l.readLock(ctx, a)
	lb, errB := l.readLock(ctx, b)
	if errA != nil || errB != nil {
		if err := errors.Join(errA, errB); !errors.Is(err, errNoLock) {
			return Changelog{}, err
		}
		out.Source, out.Packages = "packages", lock.Diff(packageLock(a), packageLock(b))
		return out, nil
	}
	out.Source, out.Packages, out.Config = "lock", lock.Diff(la, lb), configChange(la, lb)
	return out, nil
}

var errNoLock = errors.New("no stored lock")

func (l *Local) readLock(ctx context.Context, img catalog.Image) (*lock.Lock, error) {
	for _, a := range img.Artifacts {
		if a.Kind != catalog.KindLock || l.Store == nil {
			continue
		}
		rc, err := l.Store.Open(ctx, a.Digest)
		if err != nil {
			return nil, fmt.Errorf("opening the lock of %s: %w", img.Name, err)
		}
		defer rc.Close()
		data, err := io.ReadAll(io.LimitReader(rc, maxLock))
		if err != nil {
			return nil, fmt.Errorf("reading the lock of %s: %w", img.Name, err)
		}
		lk, err := lock.Decode(data)
		if err != nil {
			return nil, fmt.Errorf("the lock of %s: %w", img.Name, err)
		}
		return lk, nil
	}
	return nil, errNoLock
}

// packageLock is a lock holding only an image's installed packages.
func packageLock(img catalog.Image) *lock.Lock {
	l := &lock.Lock{Tools: img.Tools}
	for _, p := range img.Packages {
		l.Packages = append(l.Packages, lock.Package{Name: p.Name, Version: p.Version, Architecture: p.Arch})
	}
	return l
}

func configChange(a, b *lock.Lock) *ConfigChange {
	var ca, cb configtree.Lock
	if json.Unmarshal(a.Config, &ca) != nil || json.Unmarshal(b.Config, &cb) != nil || ca.Commit == "" || cb.Commit == "" {
		return nil
	}
	return &ConfigChange{Repo: cb.Repo, FromCommit: ca.Commit, ToCommit: cb.Commit, FromRef: ca.Ref, ToRef: cb.Ref}
}
