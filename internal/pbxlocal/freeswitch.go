package pbxlocal

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/switchboard/switchboard/esl"
)

// FreeSWITCH is a private FreeSWITCH configured as docker/freeswitch: the
// stock configuration of the build with the shipped files over it, as the
// compose file mounts them over an image's.
type FreeSWITCH struct {
	process
	// ESLAddr and ESLPassword reach its event socket.
	ESLAddr, ESLPassword string
	// SIPAddr is where callers send their INVITEs: the external profile,
	// whose calls the public dialplan parks. PhonesAddr is the internal
	// profile, where desk phones register.
	SIPAddr, PhonesAddr string
	// Recordings is where FreeSWITCH writes recordings.
	Recordings string
}

// The shipped directories that replace the stock ones whole (the compose
// file mounts them so); the other shipped files replace stock files one
// by one.
var fsWholeDirs = []string{"sip_profiles", "dialplan", "directory"}

// StartFreeSWITCH generates a configuration from opts.Config into
// opts.Dir and starts FreeSWITCH on it; it returns once its event socket
// says it is ready.
func StartFreeSWITCH(ctx context.Context, opts Options) (*FreeSWITCH, error) {
	f := &FreeSWITCH{}
	if err := f.init("freeswitch", opts, "freeswitch.log"); err != nil {
		return nil, err
	}
	dir := f.dir
	if err := f.configure(opts); err != nil {
		return nil, fmt.Errorf("freeswitch: configuration from %s: %w", opts.Config, err)
	}
	install := filepath.Join(Root, "freeswitch")
	f.argv = []string{filepath.Join(install, "bin", "freeswitch"), "-nf", "-nc", "-nonat", "-nocal",
		"-conf", filepath.Join(dir, "conf"), "-log", filepath.Join(dir, "log"), "-db", filepath.Join(dir, "db"),
		"-run", filepath.Join(dir, "run"), "-storage", filepath.Join(dir, "storage"), "-recordings", f.Recordings,
		"-cache", filepath.Join(dir, "cache"), "-temp", filepath.Join(dir, "tmp"), "-certs", filepath.Join(dir, "certs"),
		"-mod", filepath.Join(install, "lib", "freeswitch", "mod"), "-sounds", filepath.Join(install, "share", "freeswitch", "sounds")}
	if err := f.Start(ctx); err != nil {
		return nil, err
	}
	return f, nil
}

// Start starts the server again after Stop or Kill, on the same ports
// and configuration.
func (f *FreeSWITCH) Start(ctx context.Context) error {
	return f.start(ctx, func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		c, err := esl.Dial(ctx, f.ESLAddr, f.ESLPassword, time.Second, nil)
		if err != nil {
			return err
		}
		defer c.Close()
		status, err := c.API(ctx, "status")
		if err != nil {
			return err
		}
		if !strings.Contains(status, "is ready") {
			return errors.New("not ready: " + strings.TrimSpace(status))
		}
		// The SIP profiles start after the core says ready.
		profiles, err := c.API(ctx, "sofia status")
		if err != nil {
			return err
		}
		if n := strings.Count(profiles, "RUNNING"); n < 2 {
			return fmt.Errorf("%d SIP profiles running", n)
		}
		return nil
	})
}

func (f *FreeSWITCH) configure(opts Options) error {
	conf := filepath.Join(f.dir, "conf")
	for _, d := range []string{"log", "db", "run", "storage", "recordings", "cache", "tmp", "certs"} {
		if err := os.MkdirAll(filepath.Join(f.dir, d), 0o755); err != nil {
			return err
		}
	}
	f.Recordings = filepath.Join(f.dir, "recordings")
	if err := copyTree(filepath.Join(Root, "freeswitch", "etc", "freeswitch"), conf); err != nil {
		return err
	}
	for _, d := range fsWholeDirs {
		if err := os.RemoveAll(filepath.Join(conf, d)); err != nil {
			return err
		}
	}
	if err := copyTree(opts.Config, conf); err != nil {
		return err
	}
	os.Remove(filepath.Join(conf, "README.md"))

	esl, err := freePort()
	if err != nil {
		return err
	}
	phones, err := freePort()
	if err != nil {
		return err
	}
	trunk, err := freePort()
	if err != nil {
		return err
	}
	rtpStart, rtpEnd := rtpRange()
	f.ESLAddr = fmt.Sprintf("127.0.0.1:%d", esl)
	f.PhonesAddr = fmt.Sprintf("127.0.0.1:%d", phones)
	f.SIPAddr = fmt.Sprintf("127.0.0.1:%d", trunk)
	edits := []struct {
		file, param, value string
	}{
		{"autoload_configs/event_socket.conf.xml", "listen-ip", "127.0.0.1"},
		{"autoload_configs/event_socket.conf.xml", "listen-port", fmt.Sprint(esl)},
		{"sip_profiles/internal.xml", "sip-port", fmt.Sprint(phones)},
		{"sip_profiles/external.xml", "sip-port", fmt.Sprint(trunk)},
		{"autoload_configs/switch.conf.xml", "rtp-start-port", fmt.Sprint(rtpStart)},
		{"autoload_configs/switch.conf.xml", "rtp-end-port", fmt.Sprint(rtpEnd)},
	}
	for _, e := range edits {
		if err := edit(filepath.Join(conf, e.file), func(text string) (string, error) {
			return setParam(text, e.param, e.value)
		}); err != nil {
			return err
		}
	}
	// Every address the profiles bind is this one.
	if err := edit(filepath.Join(conf, "vars.xml"), func(text string) (string, error) {
		return replaceOnce(text, regexp.MustCompile(`data="local_ip_v4=[^"]*"`), `data="local_ip_v4=127.0.0.1"`, "local_ip_v4")
	}); err != nil {
		return err
	}
	if opts.Extra != "" {
		if err := addDialplan(filepath.Join(conf, "dialplan"), opts.Extra); err != nil {
			return fmt.Errorf("extra dialplan: %w", err)
		}
	}
	raw, err := os.ReadFile(filepath.Join(conf, "autoload_configs", "event_socket.conf.xml"))
	if err != nil {
		return err
	}
	m := regexp.MustCompile(`<param\s+name="password"\s+value="([^"]*)"`).FindStringSubmatch(string(raw))
	if m == nil {
		return errors.New("event_socket.conf.xml: no password")
	}
	f.ESLPassword = m[1]
	return nil
}

// setParam sets a <param name=… value=…/> of a FreeSWITCH configuration
// file: where the file has it, or, for one it leaves commented out or
// unset, added at the top of its <settings>.
func setParam(text, name, value string) (string, error) {
	param := fmt.Sprintf(`<param name=%q value=%q/>`, name, value)
	re := regexp.MustCompile(`(?m)^(\s*)<param\s+name="` + regexp.QuoteMeta(name) + `"\s+value="[^"]*"\s*/>`)
	switch n := len(re.FindAllStringIndex(text, -1)); n {
	case 0:
		return replaceOnce(text, regexp.MustCompile(`<settings>`), "<settings>\n    "+param, "<settings>")
	case 1:
		return re.ReplaceAllString(text, "${1}"+strings.ReplaceAll(param, "$", "$$")), nil
	default:
		return "", fmt.Errorf("expected one %s, found %d", name, n)
	}
}

// fsContext is a <context name="…"> element of a FreeSWITCH dialplan.
var fsContext = regexp.MustCompile(`(?s)<context\s+name="([^"]+)"\s*>(.*?)</context>`)

// addDialplan adds extra, <context> elements, to the dialplan directory
// dir: a context a file there has already gets extra's extensions at its
// top (FreeSWITCH reads the first context of a name, in the order the
// files are included, which is theirs by name, as Glob's); any other
// context goes whole into a file of its own.
func addDialplan(dir, extra string) error {
	contexts := fsContext.FindAllStringSubmatch(extra, -1)
	if len(contexts) == 0 {
		return errors.New(`no <context name="…"> element`)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.xml"))
	if err != nil {
		return err
	}
	var others []string
	for _, c := range contexts {
		name, extensions := c[1], c[2]
		open := regexp.MustCompile(`<context\s+name="` + regexp.QuoteMeta(name) + `"\s*>`)
		added := false
		for _, f := range files {
			raw, err := os.ReadFile(f)
			if err != nil {
				return err
			}
			at := open.FindIndex(raw)
			if at == nil {
				continue
			}
			text := string(raw[:at[1]]) + "\n    <!-- added by pbxlocal -->" + extensions +
				"<!-- end of pbxlocal's -->" + string(raw[at[1]:])
			if err := os.WriteFile(f, []byte(text), 0o644); err != nil {
				return err
			}
			added = true
			break
		}
		if !added {
			others = append(others, c[0])
		}
	}
	if len(others) == 0 {
		return nil
	}
	text := "<include>\n  " + strings.Join(others, "\n  ") + "\n</include>\n"
	return os.WriteFile(filepath.Join(dir, "pbxlocal-extra.xml"), []byte(text), 0o644)
}
