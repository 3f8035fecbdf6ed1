#include <nice/agent.h>
#include <glib-object.h>

// GObject's variadic setters and signal macros do not reach Swift; these wrappers do.

static inline void confab_nice_set_bool(NiceAgent *agent, const char *name, gboolean value) {
    g_object_set(G_OBJECT(agent), name, value, NULL);
}

static inline void confab_nice_set_uint(NiceAgent *agent, const char *name, guint value) {
    g_object_set(G_OBJECT(agent), name, value, NULL);
}

static inline void confab_nice_set_string(NiceAgent *agent, const char *name, const char *value) {
    g_object_set(G_OBJECT(agent), name, value, NULL);
}

typedef void (*confab_nice_state_cb)(NiceAgent *agent, guint stream_id, guint component_id, guint state,
                                     gpointer user_data);
typedef void (*confab_nice_gathering_cb)(NiceAgent *agent, guint stream_id, gpointer user_data);
typedef void (*confab_nice_candidate_cb)(NiceAgent *agent, NiceCandidate *candidate, gpointer user_data);
typedef void (*confab_nice_pair_cb)(NiceAgent *agent, guint stream_id, guint component_id,
                                    NiceCandidate *local, NiceCandidate *remote, gpointer user_data);

static inline gulong confab_nice_on_state(NiceAgent *agent, confab_nice_state_cb callback, gpointer data) {
    return g_signal_connect(G_OBJECT(agent), "component-state-changed", G_CALLBACK(callback), data);
}

static inline gulong confab_nice_on_gathering_done(NiceAgent *agent, confab_nice_gathering_cb callback, gpointer data) {
    return g_signal_connect(G_OBJECT(agent), "candidate-gathering-done", G_CALLBACK(callback), data);
}

static inline gulong confab_nice_on_new_candidate(NiceAgent *agent, confab_nice_candidate_cb callback, gpointer data) {
    return g_signal_connect(G_OBJECT(agent), "new-candidate-full", G_CALLBACK(callback), data);
}

static inline gulong confab_nice_on_selected_pair(NiceAgent *agent, confab_nice_pair_cb callback, gpointer data) {
    return g_signal_connect(G_OBJECT(agent), "new-selected-pair-full", G_CALLBACK(callback), data);
}

static inline void confab_nice_disconnect_all(NiceAgent *agent, gpointer data) {
    g_signal_handlers_disconnect_by_data(G_OBJECT(agent), data);
}

static inline void confab_nice_unref(NiceAgent *agent) {
    g_object_unref(G_OBJECT(agent));
}

/// The candidate's address as text and its port (for logs and the Admin API).
static inline guint confab_nice_candidate_port(const NiceCandidate *candidate) {
    return nice_address_get_port(&candidate->addr);
}

static inline void confab_nice_candidate_ip(const NiceCandidate *candidate, char *out /* NICE_ADDRESS_STRING_LEN */) {
    nice_address_to_string(&candidate->addr, out);
}
