// Drives stock janus.js against a server; called from Selenium's execute_async_script.
// runJanusTest(serverUrl, done): done(result) with result.steps / result.error / replies.
(function () {
  "use strict";
  // No webrtc-adapter is packaged in Debian: janus.js only reads adapter.browserDetails,
  // so hand it a minimal stand-in through its documented dependency hook.
  var fakeAdapter = { browserDetails: { browser: "chrome", version: 120 } };
  var initialised = null;

  function init() {
    if (initialised) return initialised;
    initialised = new Promise(function (resolve) {
      Janus.init({
        debug: false,
        dependencies: Janus.useDefaultDependencies({ adapter: fakeAdapter }),
        callback: resolve
      });
    });
    return initialised;
  }

  window.runJanusTest = function (server, done) {
    var result = { server: server, steps: [], error: null };
    var finished = false;
    function finish() {
      if (finished) return;
      finished = true;
      done(result);
    }
    function fail(where, err) {
      var text;
      try { text = typeof err === "string" ? err : JSON.stringify(err); } catch (e) { text = String(err); }
      result.error = where + ": " + text;
      finish();
    }
    setTimeout(function () { fail("timeout", "no result after 25 s (steps: " + result.steps.join(",") + ")"); }, 25000);

    init().then(function () {
      result.steps.push("init");
      result.webrtcSupported = Janus.isWebrtcSupported();
      var janus = new Janus({
        server: server,
        success: function () {
          result.steps.push("session");
          result.sessionId = janus.getSessionId();
          janus.attach({
            plugin: "janus.plugin.videoroom",
            opaqueId: "browser-test-" + Janus.randomString(8),
            success: function (handle) {
              result.steps.push("attached");
              result.handleId = handle.getId();
              result.plugin = handle.getPlugin();
              handle.send({
                message: { request: "list" },
                success: function (reply) {
                  result.steps.push("listed");
                  result.list = reply;
                  handle.send({
                    message: { request: "exists", room: 1234 },
                    success: function (reply2) {
                      result.steps.push("exists");
                      result.exists = reply2;
                      janus.destroy({
                        cleanupHandles: true,
                        success: function () { result.steps.push("destroyed"); setTimeout(finish, 200); },
                        error: function (e) { fail("destroy", e); }
                      });
                    },
                    error: function (e) { fail("exists", e); }
                  });
                },
                error: function (e) { fail("list", e); }
              });
            },
            error: function (e) { fail("attach", e); }
          });
        },
        error: function (e) { fail("session", e); },
        destroyed: function () { result.destroyedCallback = true; }
      });
    }, function (e) { fail("init", e); });
  };
})();
