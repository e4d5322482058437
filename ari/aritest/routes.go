package aritest

import "strings"

// routes lists every emulated ARI resource (paths under /ari). Each
// handler runs with the server lock held.
var routes = []route{
	r("asterisk/info", "GET", (*Server).getInfo),
	r("asterisk/ping", "GET", (*Server).ping),
	r("asterisk/variable", "GET", (*Server).getGlobal, "POST", (*Server).setGlobal),
	r("applications", "GET", (*Server).listApps),
	r("applications/{app}", "GET", (*Server).getAppJSON),
	r("applications/{app}/subscription", "POST", (*Server).subscribe, "DELETE", (*Server).unsubscribe),
	r("applications/{app}/eventFilter", "PUT", (*Server).filterEvents),
	r("endpoints", "GET", (*Server).listEndpoints),
	r("endpoints/{tech}", "GET", (*Server).listEndpointsByTech),
	r("endpoints/{tech}/{resource}", "GET", (*Server).getEndpoint),
	r("sounds", "GET", (*Server).listSounds),
	r("sounds/{sound}", "GET", (*Server).getSound),

	r("channels", "GET", (*Server).listChannels, "POST", (*Server).originate),
	r("channels/create", "POST", (*Server).create),
	r("channels/{id}", "GET", (*Server).getChannel, "POST", (*Server).originate, "DELETE", (*Server).hangupChannel),
	r("channels/{id}/answer", "POST", (*Server).answer),
	r("channels/{id}/ring", "POST", (*Server).ring, "DELETE", (*Server).ringStop),
	r("channels/{id}/moh", "POST", (*Server).mohStart, "DELETE", (*Server).mohStop),
	r("channels/{id}/play", "POST", (*Server).playChannel),
	r("channels/{id}/play/{playbackId}", "POST", (*Server).playChannel),
	r("channels/{id}/record", "POST", (*Server).recordChannel),
	r("channels/{id}/dtmf", "POST", (*Server).sendDTMF),
	r("channels/{id}/variable", "GET", (*Server).getVariable, "POST", (*Server).setVariable),
	r("channels/{id}/snoop", "POST", (*Server).snoop),
	r("channels/{id}/snoop/{snoopId}", "POST", (*Server).snoop),
	r("channels/{id}/dial", "POST", (*Server).dial),
	r("channels/{id}/continue", "POST", (*Server).continueInDialplan),
	r("channels/{id}/hold", "POST", (*Server).noop, "DELETE", (*Server).noop),
	r("channels/{id}/mute", "POST", (*Server).noop, "DELETE", (*Server).noop),
	r("channels/{id}/silence", "POST", (*Server).noop, "DELETE", (*Server).noop),
	r("channels/{id}/progress", "POST", (*Server).noop),
	r("channels/{id}/transfer_progress", "POST", (*Server).noop),

	r("bridges", "GET", (*Server).listBridges, "POST", (*Server).createBridge),
	r("bridges/{id}", "GET", (*Server).getBridge, "POST", (*Server).createBridge, "DELETE", (*Server).deleteBridge),
	r("bridges/{id}/addChannel", "POST", (*Server).addChannel),
	r("bridges/{id}/removeChannel", "POST", (*Server).removeChannel),
	r("bridges/{id}/moh", "POST", (*Server).bridgeMOHStart, "DELETE", (*Server).bridgeMOHStop),
	r("bridges/{id}/play", "POST", (*Server).playBridge),
	r("bridges/{id}/play/{playbackId}", "POST", (*Server).playBridge),
	r("bridges/{id}/record", "POST", (*Server).recordBridge),

	r("playbacks/{id}", "GET", (*Server).getPlayback, "DELETE", (*Server).stopPlayback),

	r("recordings/stored", "GET", (*Server).listStored),
	r("recordings/stored/{name}", "GET", (*Server).getStored, "DELETE", (*Server).deleteStored),
	r("recordings/stored/{name}/file", "GET", (*Server).getStoredFile),
	r("recordings/live/{name}", "GET", (*Server).getLive, "DELETE", (*Server).cancelLive),
	r("recordings/live/{name}/stop", "POST", (*Server).stopLive),
	r("recordings/live/{name}/pause", "POST", (*Server).pauseLive, "DELETE", (*Server).unpauseLive),
}

func r(pattern string, mh ...any) route {
	rt := route{segs: strings.Split(pattern, "/"), methods: map[string]handler{}}
	for i := 0; i+1 < len(mh); i += 2 {
		rt.methods[mh[i].(string)] = mh[i+1].(func(*Server, *call) reply)
	}
	return rt
}
