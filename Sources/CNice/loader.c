// See CNice.h: libnice's and GLib's functions, resolved from libnice's dlopen handle (which
// reaches GLib and GObject, its dependencies) the first time full ICE is configured.

#include "CNice.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

#define CNICE_FUNCTIONS(X) \
    X(nice_agent_new_full) X(nice_agent_add_stream) X(nice_agent_remove_stream) X(nice_agent_add_local_address) \
    X(nice_agent_set_port_range) X(nice_agent_set_relay_info) X(nice_agent_gather_candidates) \
    X(nice_agent_set_local_credentials) X(nice_agent_set_remote_credentials) X(nice_agent_set_remote_candidates) \
    X(nice_agent_peer_candidate_gathering_done) X(nice_agent_restart_stream) X(nice_agent_send) \
    X(nice_agent_attach_recv) X(nice_agent_get_local_candidates) X(nice_agent_generate_local_candidate_sdp) \
    X(nice_agent_parse_remote_candidate_sdp) X(nice_candidate_free) X(nice_address_init) \
    X(nice_address_set_from_string) X(nice_address_get_port) X(nice_address_to_string) \
    X(g_free) X(g_slist_append) X(g_slist_free) X(g_main_context_new) X(g_main_context_push_thread_default) \
    X(g_main_context_pop_thread_default) X(g_main_loop_new) X(g_main_loop_run) X(g_main_loop_quit) \
    X(g_idle_source_new) X(g_timeout_source_new) X(g_source_set_callback) X(g_source_attach) \
    X(g_source_destroy) X(g_source_unref) X(g_object_set) X(g_object_unref) X(g_signal_connect_data) \
    X(g_signal_handlers_disconnect_matched)

// One pointer per function, typed from its declaration in the headers.
#define CNICE_POINTER(name) static __typeof__(name) *p_##name;
CNICE_FUNCTIONS(CNICE_POINTER)

// The soname of Debian's libnice10 (bookworm and later).
static const char *const library = "libnice.so.10";
static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;
static int loaded;

int cnice_load(char *error, size_t error_size) {
    pthread_mutex_lock(&load_lock);
    if (loaded) {
        pthread_mutex_unlock(&load_lock);
        return 0;
    }
    void *handle = dlopen(library, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        snprintf(error, error_size, "cannot load %s (Debian package libnice10): %s", library, dlerror());
        pthread_mutex_unlock(&load_lock);
        return -1;
    }
#define CNICE_RESOLVE(name) \
    p_##name = (__typeof__(name) *)dlsym(handle, #name); \
    if (!p_##name) { \
        snprintf(error, error_size, "%s has no %s", library, #name); \
        pthread_mutex_unlock(&load_lock); \
        return -1; \
    }
    CNICE_FUNCTIONS(CNICE_RESOLVE)
#undef CNICE_RESOLVE
    // The handle stays open for the life of the process: agents may exist until exit.
    loaded = 1;
    pthread_mutex_unlock(&load_lock);
    return 0;
}

// MARK: libnice

NiceAgent *cn_nice_agent_new_full(GMainContext *ctx, NiceCompatibility compat, NiceAgentOption flags) {
    return p_nice_agent_new_full(ctx, compat, flags);
}
guint cn_nice_agent_add_stream(NiceAgent *agent, guint n_components) {
    return p_nice_agent_add_stream(agent, n_components);
}
void cn_nice_agent_remove_stream(NiceAgent *agent, guint stream_id) {
    p_nice_agent_remove_stream(agent, stream_id);
}
gboolean cn_nice_agent_add_local_address(NiceAgent *agent, NiceAddress *addr) {
    return p_nice_agent_add_local_address(agent, addr);
}
void cn_nice_agent_set_port_range(NiceAgent *agent, guint stream_id, guint component_id, guint min_port,
                                  guint max_port) {
    p_nice_agent_set_port_range(agent, stream_id, component_id, min_port, max_port);
}
gboolean cn_nice_agent_set_relay_info(NiceAgent *agent, guint stream_id, guint component_id, const gchar *server_ip,
                                      guint server_port, const gchar *username, const gchar *password,
                                      NiceRelayType type) {
    return p_nice_agent_set_relay_info(agent, stream_id, component_id, server_ip, server_port, username, password,
                                       type);
}
gboolean cn_nice_agent_gather_candidates(NiceAgent *agent, guint stream_id) {
    return p_nice_agent_gather_candidates(agent, stream_id);
}
gboolean cn_nice_agent_set_local_credentials(NiceAgent *agent, guint stream_id, const gchar *ufrag, const gchar *pwd) {
    return p_nice_agent_set_local_credentials(agent, stream_id, ufrag, pwd);
}
gboolean cn_nice_agent_set_remote_credentials(NiceAgent *agent, guint stream_id, const gchar *ufrag, const gchar *pwd) {
    return p_nice_agent_set_remote_credentials(agent, stream_id, ufrag, pwd);
}
int cn_nice_agent_set_remote_candidates(NiceAgent *agent, guint stream_id, guint component_id,
                                        const GSList *candidates) {
    return p_nice_agent_set_remote_candidates(agent, stream_id, component_id, candidates);
}
gboolean cn_nice_agent_peer_candidate_gathering_done(NiceAgent *agent, guint stream_id) {
    return p_nice_agent_peer_candidate_gathering_done(agent, stream_id);
}
gboolean cn_nice_agent_restart_stream(NiceAgent *agent, guint stream_id) {
    return p_nice_agent_restart_stream(agent, stream_id);
}
gint cn_nice_agent_send(NiceAgent *agent, guint stream_id, guint component_id, guint len, const gchar *buf) {
    return p_nice_agent_send(agent, stream_id, component_id, len, buf);
}
gboolean cn_nice_agent_attach_recv(NiceAgent *agent, guint stream_id, guint component_id, GMainContext *ctx,
                                   NiceAgentRecvFunc func, gpointer data) {
    return p_nice_agent_attach_recv(agent, stream_id, component_id, ctx, func, data);
}
GSList *cn_nice_agent_get_local_candidates(NiceAgent *agent, guint stream_id, guint component_id) {
    return p_nice_agent_get_local_candidates(agent, stream_id, component_id);
}
gchar *cn_nice_agent_generate_local_candidate_sdp(NiceAgent *agent, NiceCandidate *candidate) {
    return p_nice_agent_generate_local_candidate_sdp(agent, candidate);
}
NiceCandidate *cn_nice_agent_parse_remote_candidate_sdp(NiceAgent *agent, guint stream_id, const gchar *sdp) {
    return p_nice_agent_parse_remote_candidate_sdp(agent, stream_id, sdp);
}
void cn_nice_candidate_free(NiceCandidate *candidate) {
    p_nice_candidate_free(candidate);
}
void cn_nice_address_init(NiceAddress *addr) {
    p_nice_address_init(addr);
}
gboolean cn_nice_address_set_from_string(NiceAddress *addr, const gchar *str) {
    return p_nice_address_set_from_string(addr, str);
}

// MARK: GLib

void cn_g_free(gpointer mem) { p_g_free(mem); }
GSList *cn_g_slist_append(GSList *list, gpointer data) { return p_g_slist_append(list, data); }
void cn_g_slist_free(GSList *list) { p_g_slist_free(list); }
GMainContext *cn_g_main_context_new(void) { return p_g_main_context_new(); }
void cn_g_main_context_push_thread_default(GMainContext *context) { p_g_main_context_push_thread_default(context); }
void cn_g_main_context_pop_thread_default(GMainContext *context) { p_g_main_context_pop_thread_default(context); }
GMainLoop *cn_g_main_loop_new(GMainContext *context, gboolean is_running) {
    return p_g_main_loop_new(context, is_running);
}
void cn_g_main_loop_run(GMainLoop *loop) { p_g_main_loop_run(loop); }
void cn_g_main_loop_quit(GMainLoop *loop) { p_g_main_loop_quit(loop); }
GSource *cn_g_idle_source_new(void) { return p_g_idle_source_new(); }
GSource *cn_g_timeout_source_new(guint interval) { return p_g_timeout_source_new(interval); }
void cn_g_source_set_callback(GSource *source, GSourceFunc func, gpointer data, GDestroyNotify notify) {
    p_g_source_set_callback(source, func, data, notify);
}
guint cn_g_source_attach(GSource *source, GMainContext *context) { return p_g_source_attach(source, context); }
void cn_g_source_destroy(GSource *source) { p_g_source_destroy(source); }
void cn_g_source_unref(GSource *source) { p_g_source_unref(source); }

// MARK: GObject (plain casts: G_OBJECT()'s checked cast would call into GObject unresolved)

void confab_nice_set_bool(NiceAgent *agent, const char *name, gboolean value) {
    p_g_object_set((gpointer)agent, name, value, NULL);
}
void confab_nice_set_uint(NiceAgent *agent, const char *name, guint value) {
    p_g_object_set((gpointer)agent, name, value, NULL);
}
void confab_nice_set_string(NiceAgent *agent, const char *name, const char *value) {
    p_g_object_set((gpointer)agent, name, value, NULL);
}

gulong confab_nice_on_state(NiceAgent *agent, confab_nice_state_cb callback, gpointer data) {
    return p_g_signal_connect_data(agent, "component-state-changed", (GCallback)callback, data, NULL, 0);
}
gulong confab_nice_on_gathering_done(NiceAgent *agent, confab_nice_gathering_cb callback, gpointer data) {
    return p_g_signal_connect_data(agent, "candidate-gathering-done", (GCallback)callback, data, NULL, 0);
}
gulong confab_nice_on_new_candidate(NiceAgent *agent, confab_nice_candidate_cb callback, gpointer data) {
    return p_g_signal_connect_data(agent, "new-candidate-full", (GCallback)callback, data, NULL, 0);
}
gulong confab_nice_on_selected_pair(NiceAgent *agent, confab_nice_pair_cb callback, gpointer data) {
    return p_g_signal_connect_data(agent, "new-selected-pair-full", (GCallback)callback, data, NULL, 0);
}
void confab_nice_disconnect_all(NiceAgent *agent, gpointer data) {
    // g_signal_handlers_disconnect_by_data(), which is a macro over this.
    p_g_signal_handlers_disconnect_matched(agent, G_SIGNAL_MATCH_DATA, 0, 0, NULL, NULL, data);
}
void confab_nice_unref(NiceAgent *agent) {
    p_g_object_unref(agent);
}

guint confab_nice_candidate_port(const NiceCandidate *candidate) {
    return p_nice_address_get_port(&candidate->addr);
}
void confab_nice_candidate_ip(const NiceCandidate *candidate, char *out) {
    p_nice_address_to_string(&candidate->addr, out);
}
