package web

import (
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCatalog: both languages have every key, no more; every key the
// templates and the code name exists; each key's %-verbs agree.
func TestCatalog(t *testing.T) {
	en, fr := slices.Sorted(maps.Keys(catalog[english])), slices.Sorted(maps.Keys(catalog[french]))
	require.Equal(t, en, fr, "English and French must have the same keys")
	verbs := regexp.MustCompile(`%[sdv]`)
	for _, k := range en {
		require.Equal(t, verbs.FindAllString(catalog[english][k], -1), verbs.FindAllString(catalog[french][k], -1), "verbs of %s", k)
	}

	named := map[string]bool{}
	templateKey := regexp.MustCompile(`\.T "([a-z_.]+)"`)
	fieldKey := regexp.MustCompile(`\.Field "[a-z_]+" "([a-z_.]+)"`)
	hintKey := regexp.MustCompile(`\) "([a-z_.]+)"\)`)
	require.NoError(t, fs.WalkDir(templateFiles, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(templateFiles, p)
		for _, re := range []*regexp.Regexp{templateKey, fieldKey, hintKey} {
			for _, m := range re.FindAllStringSubmatch(string(b), -1) {
				named[m[1]] = true
			}
		}
		return err
	}))
	codeKey := regexp.MustCompile(`(?:translate\([a-z.]+, |Title: |Text: |LinkText: |Title, page.Text = |"team\.[a-z.]+"|")([a-z]+\.[a-z_.]+)"`)
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || f == "i18n.go" {
			continue
		}
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, m := range codeKey.FindAllStringSubmatch(string(b), -1) {
			if strings.Contains(m[1], ".") && !strings.HasSuffix(m[1], ".") && !strings.HasPrefix(m[1], "static.") {
				named[m[1]] = true
			}
		}
	}
	// Keys made of parts: the roles, the link pages, the nav.
	for _, k := range []string{"role.admin", "role.supervisor", "role.agent", "link.expired.invitation", "link.expired.reset"} {
		named[k] = true
	}
	for _, n := range nav {
		named[n.key] = true
	}
	require.Greater(t, len(named), 50, "the scan finds the keys")
	for k := range named {
		if strings.HasSuffix(k, ".go") || strings.HasSuffix(k, ".html") || strings.HasSuffix(k, ".css") || strings.HasSuffix(k, ".js") {
			continue
		}
		_, ok := catalog[english][k]
		require.True(t, ok, "key %q is named but not in the catalog", k)
	}
}

func TestPassword(t *testing.T) {
	p := PasswordParams{Time: 1, Memory: 1024, Threads: 1}
	hash := hashPassword("correct horse", p)
	require.True(t, strings.HasPrefix(hash, "$argon2id$v=19$m=1024,t=1,p=1$"), hash)
	require.NotEqual(t, hash, hashPassword("correct horse", p), "salted")
	other := hashPassword("correct horse", PasswordParams{Time: 2, Memory: 2048, Threads: 2})
	for _, tc := range []struct {
		name, password, hash string
		ok                   bool
		bad                  bool
	}{
		{"right", "correct horse", hash, true, false},
		{"wrong", "correct horsE", hash, false, false},
		{"empty", "", hash, false, false},
		{"other costs, read from the hash", "correct horse", other, true, false},
		{"not argon2id", "x", "$2b$10$abcdefghijklmnopqrstuv", false, true},
		{"tampered costs", "correct horse", strings.Replace(hash, "m=1024", "m=99999999", 1), false, true},
		{"garbage", "x", "$argon2id$v=19$m=1024,t=1,p=1$!!$!!", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, err := checkPassword(tc.password, tc.hash)
			require.Equal(t, tc.ok, ok)
			require.Equal(t, tc.bad, err != nil, "%v", err)
		})
	}
}

func TestLocalPath(t *testing.T) {
	for in, want := range map[string]string{
		"":                      "/",
		"/team?page=2":          "/team?page=2",
		"//evil.example/x":      "/",
		"/\\evil.example":       "/",
		"https://evil.example/": "/",
		"javascript:alert(1)":   "/",
		"/account":              "/account",
	} {
		require.Equal(t, want, localPath(in), in)
	}
}

// TestBundleSize: what a browser downloads (scripts and styles, gzip) stays
// under 200 KB.
func TestBundleSize(t *testing.T) {
	total := 0
	for name, a := range assets {
		if strings.HasSuffix(name, ".js") || strings.HasSuffix(name, ".css") {
			total += len(a.gzipped)
		}
	}
	t.Logf("JS+CSS: %d bytes compressed", total)
	require.Less(t, total, 200_000)
	require.Greater(t, total, 10_000, "htmx is in the bundle")
}

func TestFormats(t *testing.T) {
	for _, tc := range []struct {
		secs int
		want string
	}{{0, "0 s"}, {42, "42 s"}, {185, "3 min 05 s"}, {3720, "1 h 02 min"}} {
		require.Equal(t, tc.want, formatDuration(tc.secs))
	}
	require.Equal(t, french, langOf("fr-FR"))
	require.Equal(t, english, langOf("de-DE"))
	require.Equal(t, french, langFromHeader("fr-CH, fr;q=0.9, en;q=0.8"))
	require.Equal(t, english, langFromHeader("de, en-GB;q=0.5"))
}
