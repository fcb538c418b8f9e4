package configtree

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
)

// File is a file to write into the image.
type File struct {
	Path    string
	Mode    os.FileMode
	Content string
	Link    string // when set, Path is a symbolic link to Link
}

// First-boot files: the apply script, the Hiera configuration that reads
// deploy-time parameters from user-data, the recipe's class parameters as
// Hiera data, and the systemd unit that runs the script once.
const (
	FirstBootScript = "/usr/local/sbin/bakery-puppet-apply"
	FirstBootHiera  = "/etc/bakery/hiera.yaml"
	DeployData      = "/etc/bakery/deploy.yaml"
	RecipeParams    = "/etc/bakery/recipe-params.yaml"
	FirstBootUnit   = "/etc/systemd/system/bakery-puppet-first-boot.service"
	FirstBootDone   = "/var/lib/bakery/puppet-first-boot.done"
)

// FirstBootFiles make the first boot run puppet apply once, after
// cloud-init has written the user-data's files: deploy-time parameters are
// Hiera data in DeployData (e.g. from user-data write_files), looked up
// before the recipe's parameters and the tree's own data. The class is
// declared without parameters, so that every one of them is looked up:
// parameters given in the declaration would beat any Hiera data.
func FirstBootFiles(s ApplySpec) []File {
	params := s.Params
	s.HieraConfig, s.Params = FirstBootHiera, nil
	files := []File{
		{Path: FirstBootScript, Mode: 0o755, Content: firstBootScript(s)},
		{Path: FirstBootHiera, Mode: 0o644, Content: firstBootHiera},
	}
	if s.Class != "" && len(params) > 0 {
		files = append(files, File{Path: RecipeParams, Mode: 0o644, Content: recipeParamsData(s.Class, params)})
	}
	return append(files,
		File{Path: FirstBootUnit, Mode: 0o644, Content: firstBootUnit},
		File{Path: "/etc/systemd/system/multi-user.target.wants/bakery-puppet-first-boot.service", Link: FirstBootUnit})
}

// recipeParamsData is the class's parameters as Hiera data: one
// CLASS::PARAM key each, in name order, keeping the YAML types.
func recipeParamsData(class string, params map[string]any) string {
	class = strings.TrimPrefix(class, "::")
	var b strings.Builder
	b.WriteString("# written by bakery: the recipe's config.apply.params, below deploy-time data\n")
	for _, k := range slices.Sorted(maps.Keys(params)) {
		fmt.Fprintf(&b, "%s: %s\n", strconv.Quote(class+"::"+k), yamlScalar(params[k]))
	}
	return b.String()
}

// yamlScalar writes a parameter as YAML: numbers and booleans bare, like
// puppetValue, anything else as a double-quoted string (Go's escapes are
// YAML's).
func yamlScalar(v any) string {
	switch v.(type) {
	case bool, int, float64:
		return puppetValue(v)
	}
	return strconv.Quote(fmt.Sprint(v))
}

func firstBootScript(s ApplySpec) string {
	return fmt.Sprintf(`#!/bin/sh
# written by bakery: apply the baked Puppet tree with deploy-time
# parameters (Hiera data in %s, e.g. from cloud-init user-data).
rc=0
%s || rc=$?
# detailed exit codes: 0 no changes, 2 changes applied
[ "$rc" -eq 0 ] || [ "$rc" -eq 2 ]
`, DeployData, shellJoin(s.Args()))
}

const firstBootHiera = `# written by bakery: deploy-time parameters come first
version: 5
defaults:
  datadir: /etc/bakery
  data_hash: yaml_data
hierarchy:
  - name: "deploy-time parameters (cloud-init user-data)"
    path: deploy.yaml
  - name: "the recipe's class parameters"
    path: recipe-params.yaml
`

var firstBootUnit = fmt.Sprintf(`# written by bakery
[Unit]
Description=Apply the baked Puppet tree once, with deploy-time parameters
After=cloud-config.service network-online.target
Wants=network-online.target
Before=cloud-final.service
ConditionPathExists=!%[1]s

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=%[2]s
ExecStartPost=/bin/sh -c 'mkdir -p /var/lib/bakery && touch %[1]s'
StandardOutput=journal+console

[Install]
WantedBy=multi-user.target
`, FirstBootDone, FirstBootScript)

// shellJoin quotes each argument for sh.
func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}
