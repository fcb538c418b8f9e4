package boottest

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

const testBase = `#cloud-config
hostname: bakery-qa-abc123
users:
  - name: bakery
    sudo: "ALL=(ALL) NOPASSWD:ALL"
    ssh_authorized_keys:
      - ssh-ed25519 AAAA bakery-qa
ssh_pwauth: false
ssh_genkeytypes: [ed25519, ecdsa]
`

func TestMergeUserData(t *testing.T) {
	tests := []struct {
		name, extra string
		want        string // the merged document
		dropped     []string
	}{
		{"write_files added", "#cloud-config\nwrite_files:\n  - path: /etc/bakery/deploy.yaml\n    content: |\n      site::role::buildmaster::vhost: firstboot.example.org\n",
			testBase + "write_files:\n  - path: /etc/bakery/deploy.yaml\n    content: |\n      site::role::buildmaster::vhost: firstboot.example.org\n", nil},
		{"identity keys dropped", "#cloud-config\nhostname: evil\nfqdn: evil.example.org\npreserve_hostname: true\nssh_pwauth: true\nssh_genkeytypes: [rsa]\ntimezone: UTC\n",
			testBase + "timezone: UTC\n", []string{"hostname", "fqdn", "preserve_hostname", "ssh_pwauth", "ssh_genkeytypes"}},
		{"users appended, the test's user kept", "#cloud-config\nusers:\n  - default\n  - name: bakery\n    sudo: false\n  - name: deploy\n    shell: /bin/sh\n",
			strings.Replace(testBase, "ssh_pwauth:", "  - default\n  - name: deploy\n    shell: /bin/sh\nssh_pwauth:", 1), []string{"users[bakery]"}},
		{"empty document", "#cloud-config\n", testBase, nil},
		{"comments and CRLF header", "#cloud-config\r\n# deploy data\nruncmd: [[touch, /x]]\n", testBase + "# deploy data\nruncmd: [[touch, /x]]\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, dropped, err := MergeUserData([]byte(testBase), []byte(tt.extra))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("merged:\n%s\nwant:\n%s", got, tt.want)
			}
			if !slices.Equal(dropped, tt.dropped) {
				t.Errorf("dropped %q, want %q", dropped, tt.dropped)
			}
		})
	}
}

func TestMergeUserDataRejects(t *testing.T) {
	tests := []struct{ name, extra, want string }{
		{"no header", "write_files: []\n", "first line"},
		{"shell script", "#!/bin/sh\necho hi\n", "first line"},
		{"header not first", "\n#cloud-config\na: 1\n", "first line"},
		{"a list", "#cloud-config\n- a\n- b\n", "not a mapping"},
		{"a scalar", "#cloud-config\njust text\n", "not a mapping"},
		{"bad YAML", "#cloud-config\na: [1, 2\n", "did not find"},
		{"two documents", "#cloud-config\na: 1\n---\nb: 2\n", "more than one"},
		{"users not a list", "#cloud-config\nusers: deploy\n", "users must be a list"},
		{"alias of a dropped anchor", "#cloud-config\nhostname: &h x\nfoo: *h\n", "does not parse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := MergeUserData([]byte(testBase), []byte(tt.extra))
			if !errors.Is(err, ErrUserData) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("MergeUserData = %v, want ErrUserData saying %q", err, tt.want)
			}
		})
	}
}

// TestSeedWithUserData: the seed the test writes keeps its identity when
// deploy-time user-data is merged into it.
func TestSeedWithUserData(t *testing.T) {
	id, err := NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	s, dropped, err := id.SeedWith([]byte("#cloud-config\nhostname: other\nwrite_files: [{path: /etc/x, content: y}]\n"))
	if err != nil || !slices.Equal(dropped, []string{"hostname"}) {
		t.Fatalf("SeedWith = dropped %q, %v", dropped, err)
	}
	ud := string(s.UserData)
	for _, want := range []string{"hostname: " + id.Hostname, id.AuthorizedKey(), "path: /etc/x"} {
		if !strings.Contains(ud, want) {
			t.Errorf("user-data lacks %q:\n%s", want, ud)
		}
	}
	if strings.Contains(ud, "other") {
		t.Errorf("the deploy data's hostname won:\n%s", ud)
	}
	plain, _, err := id.SeedWith(nil)
	if err != nil || string(plain.UserData) != string(id.Seed().UserData) {
		t.Errorf("SeedWith(nil) = %q, %v; want the plain seed", plain.UserData, err)
	}
}

func FuzzMergeUserData(f *testing.F) {
	for _, s := range []string{"#cloud-config\nwrite_files: [{path: /a, content: b}]\n", "#cloud-config\nusers: [default, {name: x}]\n",
		"#cloud-config\nhostname: &a x\nb: *a\n", "#cloud-config\n", "#cloud-config\n- 1\n", "x: 1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, extra string) {
		got, _, err := MergeUserData([]byte(testBase), []byte(extra))
		if err != nil {
			if !errors.Is(err, ErrUserData) {
				t.Fatalf("error %v does not wrap ErrUserData", err)
			}
			return
		}
		m, err := ParseCloudConfig(got)
		if err != nil {
			t.Fatalf("merged user-data does not parse: %v\n%s", err, got)
		}
		if h := mappingValue(m, "hostname"); h == nil || h.Value != "bakery-qa-abc123" {
			t.Fatalf("the test's hostname was lost:\n%s", got)
		}
		if u := mappingValue(m, "users"); u == nil || len(u.Content) == 0 || userName(u.Content[0]) != "bakery" {
			t.Fatalf("the test's user was lost:\n%s", got)
		}
	})
}

func TestQAOptionsValidateUserData(t *testing.T) {
	o := QAOptions{Image: "a.qcow2", UserData: []byte("#!/bin/sh\n")}
	if err := o.Validate(); !errors.Is(err, ErrUserData) {
		t.Errorf("Validate with a shell script as user-data = %v, want ErrUserData", err)
	}
	o.UserData = []byte("#cloud-config\nwrite_files: []\n")
	if err := o.Validate(); err != nil {
		t.Errorf("Validate = %v", err)
	}
}
