// Drives stock janus.js + janus.plugin.echotest from Selenium (tests/test_echotest_browser.py).
//   startEcho(server, done)  -> done({sessionId, handleId, steps, error})  once the answer is applied
//   echoState()              -> everything recorded so far (messages, webrtcState, mediaState, ...)
//   echoStats(done)          -> done({video: inbound-rtp, audio: inbound-rtp, sent: video outbound-rtp,
//                               pair: selected pair, ...})
//   echoSend(message, done)  -> done(n): index in state.messages the reply will get; the reply is an
//                               echotest event with the same transaction, recorded in state.messages
//   echoRestartIce(done)     -> done(new local ufrag): ICE restart offer sent (answer applied later)
//   echoHangup(done)         -> janus.js hangup (sends "hangup", closes the PeerConnection)
//   echoDestroy(done)        -> destroys the Janus session (and its handle)
(function () {
  "use strict";

  // Keep ICE on loopback even outside a private network namespace: candidates on any other
  // address never leave the page (the tests' rule: traffic only to 127.0.0.1 / ::1).
  var Native = window.RTCPeerConnection;
  function loopbackOnly(c) {
    if (!c || !c.candidate) return true;                     // end-of-candidates
    var parts = c.candidate.split(" ");
    return parts.length > 4 && (parts[4] === "127.0.0.1" || parts[4] === "::1");
  }
  class LoopbackPeerConnection extends Native {
    constructor(config) {
      // janus.js's iceServers never apply; a test may set window.echoRtcConfig (e.g. Confab's own TURN
      // with iceTransportPolicy "relay") before startEcho.
      config = Object.assign({}, config || {}, window.echoRtcConfig || { iceServers: [] });
      super(config);
      window.echoPcs = (window.echoPcs || []).concat([this]);
    }
    set onicecandidate(fn) {
      super.onicecandidate = fn ? function (ev) { if (loopbackOnly(ev.candidate)) fn(ev); } : fn;
    }
    get onicecandidate() { return super.onicecandidate; }
  }
  window.RTCPeerConnection = LoopbackPeerConnection;

  var fakeAdapter = { browserDetails: { browser: "chrome", version: 120 } };
  var state = {
    steps: [], error: null, messages: [], jseps: [], webrtcState: [], mediaState: [], iceState: [],
    slowLink: [], remoteTracks: [], cleanup: 0, consentDialog: []
  };
  window.echoState = function () { return JSON.parse(JSON.stringify(state)); };
  var janus = null, echo = null;

  function text(e) {
    try { return typeof e === "string" ? e : JSON.stringify(e); } catch (x) { return String(e); }
  }

  window.startEcho = function (server, done) {
    var finished = false;
    function finish() {
      if (finished) return;
      finished = true;
      done({ sessionId: state.sessionId, handleId: state.handleId, steps: state.steps, error: state.error });
    }
    function fail(where, e) { state.error = where + ": " + text(e); finish(); }
    setTimeout(function () { fail("timeout", "no answer after 25 s (steps: " + state.steps.join(",") + ")"); }, 25000);

    Janus.init({
      debug: false,
      dependencies: Janus.useDefaultDependencies({ adapter: fakeAdapter }),
      callback: function () {
        state.steps.push("init");
        janus = new Janus({
          server: server,
          iceServers: [],
          success: function () {
            state.steps.push("session");
            state.sessionId = janus.getSessionId();
            janus.attach({
              plugin: "janus.plugin.echotest",
              opaqueId: "confab-echotest-" + Janus.randomString(8),
              success: function (handle) {
                echo = handle;
                state.steps.push("attached");
                state.handleId = handle.getId();
                handle.createOffer({
                  tracks: [
                    { type: "audio", capture: true, recv: true },
                    { type: "video", capture: true, recv: true }
                  ],
                  success: function (jsep) {
                    state.steps.push("offer");
                    handle.send({
                      message: { audio: true, video: true }, jsep: jsep,
                      error: function (e) { fail("send", e); }
                    });
                  },
                  error: function (e) { fail("createOffer", e); }
                });
              },
              error: function (e) { fail("attach", e); },
              consentDialog: function (on) { state.consentDialog.push(on); },
              iceState: function (s) { state.iceState.push(s); },
              mediaState: function (medium, on, mid) { state.mediaState.push({ type: medium, receiving: on, mid: mid }); },
              webrtcState: function (on, reason) { state.webrtcState.push({ on: on, reason: reason === undefined ? null : reason }); },
              slowLink: function (uplink, lost, mid) { state.slowLink.push({ uplink: uplink, lost: lost, mid: mid }); },
              onmessage: function (msg, jsep) {
                state.messages.push(msg);
                if (jsep) {
                  state.jseps.push({ type: jsep.type, sdp: jsep.sdp });
                  echo.handleRemoteJsep({
                    jsep: jsep,
                    success: function () { state.steps.push("answered"); finish(); },
                    error: function (e) { fail("handleRemoteJsep", e); }
                  });
                }
              },
              onlocaltrack: function () {},
              onremotetrack: function (track, mid, on) {
                state.remoteTracks.push({ kind: track.kind, mid: mid, on: on });
                if (!on) return;
                var video = document.getElementById("remote");
                var stream = video.srcObject || new MediaStream();
                stream.addTrack(track);
                if (!video.srcObject) video.srcObject = stream;
                video.play().catch(function () {});
              },
              oncleanup: function () { state.cleanup += 1; }
            });
          },
          error: function (e) { fail("session", e); }
        });
      }
    });
  };

  window.echoSend = function (message, done) {
    var index = state.messages.length;
    echo.send({ message: message, success: function () { done(index); }, error: function (e) { done("error: " + text(e)); } });
  };

  // ICE restart mid-call (janus.js createOffer with iceRestart: true, sent with the same echotest
  // request): done(local ufrag of the new offer) once it is sent; the answer goes through onmessage.
  window.echoRestartIce = function (done) {
    echo.createOffer({
      iceRestart: true,
      success: function (jsep) {
        state.steps.push("restart-offer");
        echo.send({ message: { audio: true, video: true }, jsep: jsep,
                    error: function (e) { state.error = "restart send: " + text(e); } });
        var m = /a=ice-ufrag:(\S+)/.exec(jsep.sdp);
        done(m ? m[1] : "error: no ufrag in the restart offer");
      },
      error: function (e) { done("error: " + text(e)); }
    });
  };

  window.echoHangup = function (done) {
    echo.hangup(true);
    setTimeout(function () { done(true); }, 100);
  };

  window.echoDestroy = function (done) {
    if (!janus) { done(false); return; }
    janus.destroy({ cleanupHandles: true, success: function () { done(true); },
                    error: function (e) { done("error: " + text(e)); } });
  };

  window.echoStats = function (done) {
    var video = document.getElementById("remote");
    var out = { videoWidth: video.videoWidth, videoHeight: video.videoHeight, currentTime: video.currentTime,
                paused: video.paused, video: null, audio: null, sent: null, pair: null, pcState: null };
    var pc = echo && echo.webrtcStuff && echo.webrtcStuff.pc;
    if (!pc) { done(out); return; }
    out.pcState = pc.connectionState;
    pc.getStats().then(function (report) {
      var byId = {};
      report.forEach(function (s) { byId[s.id] = s; });
      report.forEach(function (s) {
        if (s.type === "inbound-rtp" && s.kind === "video") {
          out.video = { framesDecoded: s.framesDecoded, framesReceived: s.framesReceived,
                        frameWidth: s.frameWidth, frameHeight: s.frameHeight, packetsReceived: s.packetsReceived,
                        bytesReceived: s.bytesReceived, keyFramesDecoded: s.keyFramesDecoded, pliCount: s.pliCount,
                        nackCount: s.nackCount, packetsLost: s.packetsLost,
                        retransmittedPacketsReceived: s.retransmittedPacketsReceived,
                        firCount: s.firCount, freezeCount: s.freezeCount, framesDropped: s.framesDropped };
        } else if (s.type === "outbound-rtp" && s.kind === "video") {
          out.sent = { packetsSent: s.packetsSent, nackCount: s.nackCount,
                       retransmittedPacketsSent: s.retransmittedPacketsSent, pliCount: s.pliCount,
                       firCount: s.firCount, framesEncoded: s.framesEncoded, keyFramesEncoded: s.keyFramesEncoded,
                       framesSent: s.framesSent };
        } else if (s.type === "inbound-rtp" && s.kind === "audio") {
          out.audio = { packetsReceived: s.packetsReceived, totalAudioEnergy: s.totalAudioEnergy,
                        totalSamplesReceived: s.totalSamplesReceived, bytesReceived: s.bytesReceived };
        } else if (s.type === "transport" && s.selectedCandidatePairId) {
          var p = byId[s.selectedCandidatePairId];
          if (p) {
            var l = byId[p.localCandidateId] || {}, r = byId[p.remoteCandidateId] || {};
            out.pair = { state: p.state, nominated: p.nominated,
                         local: { type: l.candidateType, address: l.address, port: l.port, protocol: l.protocol },
                         remote: { type: r.candidateType, address: r.address, port: r.port, protocol: r.protocol } };
          }
        }
      });
      done(out);
    }, function (e) { out.error = text(e); done(out); });
  };
})();
