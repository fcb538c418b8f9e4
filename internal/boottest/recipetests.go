package boottest

import (
	"context"
	"fmt"
	"path"
	"regexp"
	"strings"
)

// Script is a recipe test: an executable file (any interpreter, with a #!
// line) that is copied to the booted machine and run there as root. Its
// exit code is the verdict; what it prints (TAP is summarised) is kept.
type Script struct {
	Name    string // as the recipe lists it, e.g. tests/smoke.sh
	Content []byte
	// Missing, when set, says why the script could not be found; its check
	// then fails with this reason.
	Missing string
}

// GuestTestDir is where recipe tests are copied to on the machine.
const GuestTestDir = "/tmp/bakery-tests"

// maxTestOutput bounds what is kept of a recipe test's output.
const maxTestOutput = 64 << 10

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]`)

// guestPath is where the i-th script goes: its base name, made safe for the
// shell, after its position so that equal base names do not collide.
func guestPath(i int, name string) string {
	base := unsafeChars.ReplaceAllString(path.Base(name), "_")
	return fmt.Sprintf("%s/%02d-%s", GuestTestDir, i+1, base)
}

// recipeTestEnv is the environment a recipe test runs with.
func recipeTestEnv(b *bootState, fw string) string {
	return fmt.Sprintf("BAKERY_FIRMWARE=%s BAKERY_HOSTNAME=%s BAKERY_USER=%s", fw, b.id.Hostname, b.id.User)
}

func runRecipeTest(ctx context.Context, g guest, b *bootState, fw string, i int, s Script) verdict {
	if s.Missing != "" {
		return fail("script not available: %s", s.Missing)
	}
	dst := guestPath(i, s.Name)
	up, err := g.run(ctx, fmt.Sprintf("mkdir -p %s && cat > %s && chmod 0755 %s", GuestTestDir, dst, dst), s.Content)
	if err != nil || up.exit != 0 {
		return fail("copying the script to %s: %v %s", dst, err, up.output())
	}
	cmd := fmt.Sprintf("cd %s && sudo -n env %s timeout %d %s 2>&1", GuestTestDir, recipeTestEnv(b, fw), int(b.timeout.Seconds()), dst)
	runCtx, cancel := context.WithTimeout(ctx, b.timeout+commandGrace)
	defer cancel()
	res, err := g.run(runCtx, cmd, nil)
	if err != nil {
		return fail("running %s: %v", dst, err)
	}
	out := truncateOutput(res.stdout)
	summary := tapSummary(out)
	if summary == "" {
		summary = "last line: " + lastLine(out)
	}
	v := verdict{passed: res.exit == 0, output: out, evidence: fmt.Sprintf("exit %d; %s", res.exit, summary)}
	if res.exit == 124 {
		v.evidence = fmt.Sprintf("timed out after %s; %s", b.timeout, summary)
	}
	return v
}

func truncateOutput(s string) string {
	if len(s) <= maxTestOutput {
		return s
	}
	return "[… " + fmt.Sprint(len(s)-maxTestOutput) + " bytes cut …]\n" + s[len(s)-maxTestOutput:]
}

// recipeTestName is the check name of a recipe test.
func recipeTestName(s Script) string {
	return RecipeTestPrefix + strings.TrimPrefix(s.Name, "./")
}
