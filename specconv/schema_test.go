package specconv

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-tools/validate"
	"github.com/xeipuuv/gojsonschema"
)

// specSchemaDir is the schema folder of the runtime-spec module berth
// builds against, so what `berth spec` and `berth features` print is
// checked against the very version berth claims, without the network
// (runtime-tools' own schema check fetches it from GitHub).
var specSchemaDir = sync.OnceValues(func() (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/opencontainers/runtime-spec").Output()
	if err != nil {
		return "", err
	}
	return filepath.Join(strings.TrimSpace(string(out)), "schema"), nil
})

func schemaErrors(t *testing.T, schema string, doc any) []string {
	t.Helper()
	dir, err := specSchemaDir()
	if err != nil {
		t.Fatalf("find the runtime-spec module: %v", err)
	}
	res, err := gojsonschema.Validate(gojsonschema.NewReferenceLoader("file://"+filepath.Join(dir, schema)), gojsonschema.NewGoLoader(doc))
	if err != nil {
		t.Fatalf("%s: %v", schema, err)
	}
	var errs []string
	for _, e := range res.Errors() {
		errs = append(errs, e.String())
	}
	return errs
}

// specErrors runs runtime-tools' validator (every check but its networked
// schema fetch) and the spec's JSON schema over s.
func specErrors(t *testing.T, s *specs.Spec) []string {
	t.Helper()
	bundle := t.TempDir()
	if s.Root != nil {
		if err := os.MkdirAll(filepath.Join(bundle, s.Root.Path), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	v, err := validate.NewValidator(s, bundle, false, "linux")
	if err != nil {
		t.Fatal(err)
	}
	errs := schemaErrors(t, "config-schema.json", s)
	for _, check := range []func() error{v.CheckPlatform, v.CheckRoot, v.CheckMandatoryFields, v.CheckSemVer,
		v.CheckMounts, v.CheckProcess, v.CheckLinux, v.CheckAnnotations, v.CheckHooks} {
		// The checks return an empty *multierror.Error for "no errors".
		switch err := check().(type) {
		case nil:
		case interface{ WrappedErrors() []error }:
			for _, e := range err.WrappedErrors() {
				errs = append(errs, e.Error())
			}
		default:
			errs = append(errs, err.Error())
		}
	}
	return errs
}

func TestExampleIsAValidSpec(t *testing.T) {
	for _, rootless := range []bool{false, true} {
		s, err := Example(rootless)
		if err != nil {
			t.Fatal(err)
		}
		if errs := specErrors(t, s); len(errs) > 0 {
			t.Errorf("berth spec (rootless=%v) is not a valid runtime-spec config:\n%s", rootless, strings.Join(errs, "\n"))
		}
	}
}

// The validators must be able to fail: each broken copy of the example is
// refused.
func TestSpecCheckRefusesBrokenConfigs(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*specs.Spec)
	}{
		{"ociVersion not semver", func(s *specs.Spec) { s.Version = "one" }},
		{"relative cwd", func(s *specs.Spec) { s.Process.Cwd = "work" }},
		{"no args", func(s *specs.Spec) { s.Process.Args = nil }},
		{"unknown namespace", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: "bogus"})
		}},
		{"mount without destination", func(s *specs.Spec) { s.Mounts = append(s.Mounts, specs.Mount{Type: "tmpfs", Source: "tmpfs"}) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Example(false)
			if err != nil {
				t.Fatal(err)
			}
			tc.mutate(s)
			errs := specErrors(t, s)
			if len(errs) == 0 {
				t.Error("accepted")
			}
			t.Log(errs)
		})
	}
}

func TestFeaturesMatchTheSchema(t *testing.T) {
	f, err := Features(specs.Version)
	if err != nil {
		t.Fatal(err)
	}
	// Through JSON, as `berth features` prints it.
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if errs := schemaErrors(t, "features-schema.json", doc); len(errs) > 0 {
		t.Errorf("berth features does not match the spec's schema:\n%s", strings.Join(errs, "\n"))
	}
	doc.(map[string]any)["ociVersionMin"] = 1
	if errs := schemaErrors(t, "features-schema.json", doc); len(errs) == 0 {
		t.Error("schema check accepted a numeric ociVersionMin")
	}
}
