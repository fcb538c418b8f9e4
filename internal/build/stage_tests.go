package build

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/bakery-dev/bakery/internal/catalog"
)

// RecipeTests stores the recipe's test scripts with the image, so that
// `bakery test NAME` runs the very tests the image was built with.
type RecipeTests struct {
	Names []string // as written in the recipe (relative paths)
	Paths []string // resolved against the recipe's directory
}

func (RecipeTests) Name() string { return "recipe-tests" }

func (s RecipeTests) Describe() map[string]any { return map[string]any{"tests": s.Names} }

func (s RecipeTests) Run(_ context.Context, ws *Workspace) error {
	for i, name := range s.Names {
		dst := ws.Path(filepath.Join("recipe-tests", fmt.Sprint(i), filepath.Base(name)))
		if err := copyExecutable(s.Paths[i], dst); err != nil {
			return fmt.Errorf("recipe test %s: %w", name, err)
		}
		ws.AddOutput(catalog.KindTestScript, name, dst)
	}
	return nil
}

func copyExecutable(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() || fi.Mode()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file (chmod +x it)", src)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
