/*
 * FarmIQ subscribe guard: a Mosquitto 2.0 plugin (plugin interface v5) that refuses every
 * SUBSCRIBE except the ingress bridge's and those to an alarm siren filter.
 *
 * Why it exists. Devices only publish (docs/operations.md section 2), except sirens, which read
 * their farm's alarm sirens; the acl_file's read rules say what is delivered to whom. But
 * Mosquitto 2.0's acl_file does not check subscriptions at all: its check answers "allowed" for every SUBSCRIBE (security_default.c
 * returns success for MOSQ_ACL_SUBSCRIBE, whatever the filter and even with `topic deny #`), so a
 * device that subscribes to '#', 'iot/#', '$SYS/#' or another device's topics is told it got
 * them (SUBACK 0x01) and merely receives nothing. The dynamic-security plugin does refuse, but it
 * keeps its own client list and does not re-read it on SIGHUP, which would replace FarmIQ's
 * model: passwd and acl are rendered from edge_devices and the broker reloads them on SIGHUP
 * (gateways/mqtt-bridge/broker/render.ts). This plugin adds only the refusal and leaves the
 * password_file and acl_file in charge of everything else.
 *
 * What it does, for each ACL check the broker makes (MOSQ_EVT_ACL_CHECK):
 *   - SUBSCRIBE from the client logged in as plugin_opt_bridge_username: defer, so the acl_file
 *     check (next in the broker's list) grants it as before;
 *   - SUBSCRIBE to a siren filter, from any client: defer as well. A siren filter is exactly
 *     farmiq/<tenant>/<farm>/<barn or +>/alarm/siren, no '#' and no '+' in the tenant and farm
 *     levels (siren_filter below; isSirenFilter in render.ts). The acl_file's read rules then
 *     decide delivery: a siren device reads its own farm's (render.ts deviceReadFilters), a
 *     sensor or another farm's siren is granted the subscription and receives nothing;
 *   - any other SUBSCRIBE: MOSQ_ERR_ACL_DENIED. The broker then answers that filter
 *     with 0x87 "Not authorized" (MQTT 5) or 0x80 "Failure" (MQTT 3.1.1), adds no subscription
 *     and sends no retained message. MQTT 3.1 has no failure code: such a client is answered with
 *     its requested QoS, but no subscription is added either;
 *   - everything else (PUBLISH = write, delivery = read, UNSUBSCRIBE): defer, so the acl_file
 *     decides exactly as without the plugin.
 * A device downlink elsewhere (deviceReadFilters() in render.ts) needs its filter admitted here
 * first; render.ts refuses to render any other device read rule until then. A shared
 * subscription ($share/<group>/...) is never a siren filter, so it stays refused.
 *
 * Why the acl_file still runs (verified on Debian's Mosquitto 2.0.11, and the same code in
 * 2.0.18): the acl_file check is registered as one more MOSQ_EVT_ACL_CHECK callback after the
 * plugins have been initialised, so this plugin's callback runs first and a deferral falls
 * through to it. On SIGHUP Mosquitto re-reads passwd and acl and re-registers that callback at
 * the end of the list again; plugins are neither reloaded nor re-initialised on SIGHUP (the
 * `plugin` and `plugin_opt_*` lines are only read at start), so this plugin keeps working across
 * reloads, and a change of the bridge username or of the plugin lines needs a broker restart.
 *
 * Client ids are the logins (use_username_as_clientid), and the username it compares is the
 * authenticated login of the connection (the password_file checked it), so a device cannot pass
 * for the bridge without the bridge's password.
 *
 * Refusals are logged at debug level, as Mosquitto logs its own "Denied PUBLISH": a device that
 * keeps subscribing must not be able to fill the disk through the log.
 *
 * Build: Makefile beside this file (scripts/setup.sh builds it into .venv/lib/mosquitto/).
 * Headers: mosquitto_broker.h, mosquitto_plugin.h (Debian mosquitto-dev) and mosquitto.h
 * (Debian libmosquitto-dev: the MOSQ_ERR_* and MOSQ_LOG_* constants).
 * Configuration (infra/mosquitto/mosquitto.conf.template):
 *   plugin /path/to/subscribe_guard.so
 *   plugin_opt_bridge_username <MQTT_BRIDGE_USERNAME>
 * Without plugin_opt_bridge_username the plugin fails to initialise and Mosquitto does not
 * start (fail closed rather than refuse the bridge or allow everyone).
 */
#include <stdlib.h>
#include <string.h>

#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>

#define GUARD_PLUGIN_VERSION 5

static mosquitto_plugin_id_t *guard_id;
static char *bridge_username;

/* True for farmiq/<seg>/<seg>/<seg or +>/alarm/siren, where <seg> is non-empty without '+' or '#'. */
static int siren_filter(const char *filter)
{
	const char *level = filter;
	const char *end;
	size_t len;
	int i;

	for(i = 0; i < 6; i++){
		end = strchr(level, '/');
		len = end ? (size_t)(end - level) : strlen(level);
		/* Six levels exactly: the last has no '/' after it, the others have one. */
		if((i == 5) != (end == NULL) || len == 0){
			return 0;
		}
		if(i == 0 && (len != 6 || strncmp(level, "farmiq", 6) != 0)) return 0;
		if(i == 4 && (len != 5 || strncmp(level, "alarm", 5) != 0)) return 0;
		if(i == 5 && (len != 5 || strncmp(level, "siren", 5) != 0)) return 0;
		/* The barn level may be '+' alone; the tenant and farm levels never hold a wildcard. */
		if((i == 1 || i == 2 || i == 3) && !(i == 3 && len == 1 && level[0] == '+')
				&& (memchr(level, '+', len) != NULL || memchr(level, '#', len) != NULL)){
			return 0;
		}
		level = end ? end + 1 : level + len;
	}
	return 1;
}

static int guard_acl_check(int event, void *event_data, void *userdata)
{
	const struct mosquitto_evt_acl_check *ed = event_data;
	const char *username;

	(void)event;
	(void)userdata;

	if(ed->access != MOSQ_ACL_SUBSCRIBE){
		return MOSQ_ERR_PLUGIN_DEFER;
	}
	username = mosquitto_client_username(ed->client);
	if(username != NULL && strcmp(username, bridge_username) == 0){
		return MOSQ_ERR_PLUGIN_DEFER;
	}
	/* The acl_file's read rules decide what a siren filter delivers, and to whom. */
	if(ed->topic != NULL && siren_filter(ed->topic)){
		return MOSQ_ERR_PLUGIN_DEFER;
	}
	mosquitto_log_printf(MOSQ_LOG_DEBUG, "subscribe-guard: refused SUBSCRIBE to '%s' from '%s'",
			ed->topic ? ed->topic : "", username ? username : "");
	/* Only SUCCESS or ACL_DENIED: any other code makes the broker drop the connection. */
	return MOSQ_ERR_ACL_DENIED;
}

int mosquitto_plugin_version(int supported_version_count, const int *supported_versions)
{
	int i;

	for(i = 0; i < supported_version_count; i++){
		if(supported_versions[i] == GUARD_PLUGIN_VERSION){
			return GUARD_PLUGIN_VERSION;
		}
	}
	return -1;
}

int mosquitto_plugin_init(mosquitto_plugin_id_t *identifier, void **userdata, struct mosquitto_opt *options, int option_count)
{
	const char *name = NULL;
	size_t len;
	int i;

	(void)userdata;

	for(i = 0; i < option_count; i++){
		if(options[i].key != NULL && strcmp(options[i].key, "bridge_username") == 0){
			name = options[i].value;
		}
	}
	if(name == NULL || name[0] == '\0'){
		mosquitto_log_printf(MOSQ_LOG_ERR, "subscribe-guard: plugin_opt_bridge_username is missing or empty");
		return MOSQ_ERR_INVAL;
	}
	len = strlen(name);
	bridge_username = malloc(len + 1);
	if(bridge_username == NULL){
		return MOSQ_ERR_NOMEM;
	}
	memcpy(bridge_username, name, len + 1);

	guard_id = identifier;
	if(mosquitto_callback_register(guard_id, MOSQ_EVT_ACL_CHECK, guard_acl_check, NULL, NULL) != MOSQ_ERR_SUCCESS){
		mosquitto_log_printf(MOSQ_LOG_ERR, "subscribe-guard: could not register the ACL check");
		free(bridge_username);
		bridge_username = NULL;
		return MOSQ_ERR_UNKNOWN;
	}
	mosquitto_log_printf(MOSQ_LOG_INFO, "subscribe-guard: refusing SUBSCRIBE from every client but '%s', siren filters excepted", bridge_username);
	return MOSQ_ERR_SUCCESS;
}

int mosquitto_plugin_cleanup(void *userdata, struct mosquitto_opt *options, int option_count)
{
	(void)userdata;
	(void)options;
	(void)option_count;

	if(guard_id != NULL){
		mosquitto_callback_unregister(guard_id, MOSQ_EVT_ACL_CHECK, guard_acl_check, NULL);
		guard_id = NULL;
	}
	free(bridge_username);
	bridge_username = NULL;
	return MOSQ_ERR_SUCCESS;
}
