// libnice (full ICE, `media.ice_mode = "full"`) loaded at run time, only when full ICE is chosen:
// the default ICE-lite mode never maps libnice and the ~40 libraries it pulls in (GLib, GnuTLS,
// libsoup, libxml2, Kerberos...), about 6.5 MB of resident memory and as much start-up work.
// The headers give the types; every function Confab calls goes through a pointer that
// `cnice_load` resolves with dlopen/dlsym, behind a `cn_`-prefixed wrapper of the same signature.
#ifndef CONFAB_CNICE_H
#define CONFAB_CNICE_H

#include <stddef.h>
#include <nice/agent.h>
#include <glib-object.h>

/// Loads libnice and resolves every function below; 0 on success (also when already loaded),
/// -1 with a message in `error` otherwise. Thread-safe.
int cnice_load(char *error, size_t error_size);

// libnice
NiceAgent *cn_nice_agent_new_full(GMainContext *ctx, NiceCompatibility compat, NiceAgentOption flags);
guint cn_nice_agent_add_stream(NiceAgent *agent, guint n_components);
void cn_nice_agent_remove_stream(NiceAgent *agent, guint stream_id);
gboolean cn_nice_agent_add_local_address(NiceAgent *agent, NiceAddress *addr);
void cn_nice_agent_set_port_range(NiceAgent *agent, guint stream_id, guint component_id, guint min_port,
                                  guint max_port);
gboolean cn_nice_agent_set_relay_info(NiceAgent *agent, guint stream_id, guint component_id, const gchar *server_ip,
                                      guint server_port, const gchar *username, const gchar *password,
                                      NiceRelayType type);
gboolean cn_nice_agent_gather_candidates(NiceAgent *agent, guint stream_id);
gboolean cn_nice_agent_set_local_credentials(NiceAgent *agent, guint stream_id, const gchar *ufrag, const gchar *pwd);
gboolean cn_nice_agent_set_remote_credentials(NiceAgent *agent, guint stream_id, const gchar *ufrag, const gchar *pwd);
int cn_nice_agent_set_remote_candidates(NiceAgent *agent, guint stream_id, guint component_id,
                                        const GSList *candidates);
gboolean cn_nice_agent_peer_candidate_gathering_done(NiceAgent *agent, guint stream_id);
gboolean cn_nice_agent_restart_stream(NiceAgent *agent, guint stream_id);
gint cn_nice_agent_send(NiceAgent *agent, guint stream_id, guint component_id, guint len, const gchar *buf);
gboolean cn_nice_agent_attach_recv(NiceAgent *agent, guint stream_id, guint component_id, GMainContext *ctx,
                                   NiceAgentRecvFunc func, gpointer data);
GSList *cn_nice_agent_get_local_candidates(NiceAgent *agent, guint stream_id, guint component_id);
gchar *cn_nice_agent_generate_local_candidate_sdp(NiceAgent *agent, NiceCandidate *candidate);
NiceCandidate *cn_nice_agent_parse_remote_candidate_sdp(NiceAgent *agent, guint stream_id, const gchar *sdp);
void cn_nice_candidate_free(NiceCandidate *candidate);
void cn_nice_address_init(NiceAddress *addr);
gboolean cn_nice_address_set_from_string(NiceAddress *addr, const gchar *str);

// GLib
void cn_g_free(gpointer mem);
GSList *cn_g_slist_append(GSList *list, gpointer data);
void cn_g_slist_free(GSList *list);
GMainContext *cn_g_main_context_new(void);
void cn_g_main_context_push_thread_default(GMainContext *context);
void cn_g_main_context_pop_thread_default(GMainContext *context);
GMainLoop *cn_g_main_loop_new(GMainContext *context, gboolean is_running);
void cn_g_main_loop_run(GMainLoop *loop);
void cn_g_main_loop_quit(GMainLoop *loop);
GSource *cn_g_idle_source_new(void);
GSource *cn_g_timeout_source_new(guint interval);
void cn_g_source_set_callback(GSource *source, GSourceFunc func, gpointer data, GDestroyNotify notify);
guint cn_g_source_attach(GSource *source, GMainContext *context);
void cn_g_source_destroy(GSource *source);
void cn_g_source_unref(GSource *source);

// GObject's variadic setters and signal macros do not reach Swift; these wrappers do.
void confab_nice_set_bool(NiceAgent *agent, const char *name, gboolean value);
void confab_nice_set_uint(NiceAgent *agent, const char *name, guint value);
void confab_nice_set_string(NiceAgent *agent, const char *name, const char *value);

typedef void (*confab_nice_state_cb)(NiceAgent *agent, guint stream_id, guint component_id, guint state,
                                     gpointer user_data);
typedef void (*confab_nice_gathering_cb)(NiceAgent *agent, guint stream_id, gpointer user_data);
typedef void (*confab_nice_candidate_cb)(NiceAgent *agent, NiceCandidate *candidate, gpointer user_data);
typedef void (*confab_nice_pair_cb)(NiceAgent *agent, guint stream_id, guint component_id,
                                    NiceCandidate *local, NiceCandidate *remote, gpointer user_data);

gulong confab_nice_on_state(NiceAgent *agent, confab_nice_state_cb callback, gpointer data);
gulong confab_nice_on_gathering_done(NiceAgent *agent, confab_nice_gathering_cb callback, gpointer data);
gulong confab_nice_on_new_candidate(NiceAgent *agent, confab_nice_candidate_cb callback, gpointer data);
gulong confab_nice_on_selected_pair(NiceAgent *agent, confab_nice_pair_cb callback, gpointer data);
void confab_nice_disconnect_all(NiceAgent *agent, gpointer data);
void confab_nice_unref(NiceAgent *agent);

/// The candidate's port and its address as text (for logs and the Admin API).
guint confab_nice_candidate_port(const NiceCandidate *candidate);
void confab_nice_candidate_ip(const NiceCandidate *candidate, char *out /* NICE_ADDRESS_STRING_LEN */);

#endif
