package pbxlocal

import (
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/esl"
)

// need skips a test when the server's build is absent, saying why; in CI
// it is always there, and its absence fails the test.
func need(t *testing.T, server string) {
	t.Helper()
	if err := Installed(server); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set and %v", err)
		}
		t.Skipf("the real %s is absent: %v", server, err)
	}
}

func TestAsterisk(t *testing.T) {
	need(t, "asterisk")
	t.Parallel()
	a, err := StartAsterisk(t.Context(), Options{Dir: t.TempDir(), Config: "../../docker/asterisk",
		Extra: "[bench]\nexten => _X.,1,Answer()\n same => n,Hangup()\n[from-trunk]\nexten => bench,1,Answer()\n same => n,Hangup()"})
	require.NoError(t, err)
	defer a.Stop()
	require.Equal(t, "switchboard", a.ARIUser)

	get := func(path string) int {
		req, _ := http.NewRequest("GET", a.ARIURL+"/ari"+path, nil)
		req.SetBasicAuth(a.ARIUser, a.ARIPassword)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		return res.StatusCode
	}
	require.Equal(t, 200, get("/asterisk/info"))
	// The SIP port is Asterisk's: we cannot bind it.
	_, err = net.ListenPacket("udp4", a.SIPAddr)
	require.Error(t, err, "Asterisk holds %s", a.SIPAddr)
	conf, err := os.ReadFile(filepath.Join(a.Dir(), "etc", "extensions.conf"))
	require.NoError(t, err)
	require.Contains(t, string(conf), "[from-trunk]", "the shipped dialplan")
	require.Contains(t, string(conf), "[bench]", "and the extra context")
	// A shipped context named again is extended: Asterisk merges them.
	plan, err := a.CLI(t.Context(), "dialplan show from-trunk")
	require.NoError(t, err)
	require.Contains(t, plan, "'bench' =>", "the extra extension")
	require.Contains(t, plan, "'_X.' =>", "and the shipped ones")

	// A restart keeps the ports; a killed server starts again.
	require.NoError(t, a.Stop())
	require.NoError(t, a.Start(t.Context()))
	require.Equal(t, 200, get("/asterisk/info"))
	a.Kill()
	require.NoError(t, a.Start(t.Context()))
	require.Equal(t, 200, get("/asterisk/info"))
}

func TestFreeSWITCH(t *testing.T) {
	need(t, "freeswitch")
	t.Parallel()
	f, err := StartFreeSWITCH(t.Context(), Options{Dir: t.TempDir(), Config: "../../docker/freeswitch",
		Extra: `<include><context name="public"><extension name="bench"><condition field="destination_number" expression="^bench$">
  <action application="hangup"/></condition></extension></context>
<context name="bench"><extension name="all"/></context></include>`})
	require.NoError(t, err)
	defer f.Stop()
	require.Equal(t, "change-me-esl", f.ESLPassword)

	c, err := esl.Dial(t.Context(), f.ESLAddr, f.ESLPassword, 5*time.Second, nil)
	require.NoError(t, err)
	defer c.Close()
	profiles, err := c.API(t.Context(), "sofia status")
	require.NoError(t, err)
	for _, addr := range []string{f.SIPAddr, f.PhonesAddr} {
		require.Contains(t, profiles, addr, "a profile on %s", addr)
	}
	// The shipped dialplan, not the stock one.
	xml, err := c.API(t.Context(), "xml_locate dialplan context name public")
	require.NoError(t, err)
	require.Contains(t, xml, "switchboard-down")
	// The extra extension comes first in the shipped context; a new
	// context is there too.
	require.Less(t, strings.Index(xml, `name="bench"`), strings.Index(xml, `name="switchboard"`), xml)
	xml, err = c.API(t.Context(), "xml_locate dialplan context name bench")
	require.NoError(t, err)
	require.Contains(t, xml, `<extension name="all"`)
	// The shipped switch.conf.xml: not the stock limit of 30 new calls a
	// second.
	status, err := c.API(t.Context(), "status")
	require.NoError(t, err)
	require.Contains(t, status, "per Sec out of max 1000", status)
	require.NoError(t, f.Stop())
	require.NoError(t, f.Start(t.Context()))
}

func TestAddDialplan(t *testing.T) {
	dir := t.TempDir()
	shipped := "<include>\n  <context name=\"public\">\n    <extension name=\"park\"/>\n  </context>\n</include>\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "public.xml"), []byte(shipped), 0o644))
	require.NoError(t, addDialplan(dir, `<include><context name="public"><extension name="bench"/></context>
<context name="lab"><extension name="x"/></context></include>`))
	raw, err := os.ReadFile(filepath.Join(dir, "public.xml"))
	require.NoError(t, err)
	require.Equal(t, "<include>\n  <context name=\"public\">\n    <!-- added by pbxlocal --><extension name=\"bench\"/><!-- end of pbxlocal's -->\n"+
		"    <extension name=\"park\"/>\n  </context>\n</include>\n", string(raw))
	raw, err = os.ReadFile(filepath.Join(dir, "pbxlocal-extra.xml"))
	require.NoError(t, err)
	require.Equal(t, "<include>\n  <context name=\"lab\"><extension name=\"x\"/></context>\n</include>\n", string(raw))
	require.ErrorContains(t, addDialplan(dir, "<extension/>"), "no <context")
}

func TestNotInstalled(t *testing.T) {
	err := Installed("nothing")
	require.True(t, errors.Is(err, ErrNotInstalled))
	require.Contains(t, err.Error(), "ensure-pbx.sh")
}

func TestSetINI(t *testing.T) {
	text := "[general]\nbindport=8088\n[other]\nbindport=1\n"
	got, err := setINI(text, "general", "bindport", "9000")
	require.NoError(t, err)
	require.Equal(t, "[general]\nbindport=9000\n[other]\nbindport=1\n", got)
	_, err = setINI(text, "general", "bindaddr", "127.0.0.1")
	require.ErrorContains(t, err, "expected one bindaddr= in [general], found 0")
}

func TestSetParam(t *testing.T) {
	text := "<settings>\n  <param name=\"sip-port\" value=\"5060\"/>\n  <!-- <param name=\"rtp-start-port\" value=\"1\"/> -->\n</settings>"
	got, err := setParam(text, "sip-port", "5555")
	require.NoError(t, err)
	require.Contains(t, got, `  <param name="sip-port" value="5555"/>`)
	got, err = setParam(got, "rtp-start-port", "20000")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(got, "<settings>\n    <param name=\"rtp-start-port\" value=\"20000\"/>"), got)
}

func TestARIUser(t *testing.T) {
	user, password, err := ariUser("[general]\nenabled=yes\n\n; a comment\n[switchboard]\ntype=user\npassword=secret ; inline\n")
	require.NoError(t, err)
	require.Equal(t, "switchboard", user)
	require.Equal(t, "secret", password)
	_, _, err = ariUser("[general]\nenabled=yes\n")
	require.Error(t, err)
}
