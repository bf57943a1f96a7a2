/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "json-util.h"
#include "openflow.h"

static const char *const action_types[_OF_ACTION_TYPE_MAX + 1] = {
        [OF_ACTION_OUTPUT] = "output",
        [OF_ACTION_NORMAL] = "normal",
        [OF_ACTION_DROP] = "drop",
        [OF_ACTION_RESUBMIT] = "resubmit",
        [OF_ACTION_SET_FIELD] = "set_field",
        [OF_ACTION_MOD_DL_DST] = "mod_dl_dst",
        [OF_ACTION_CT] = "ct",
        [OF_ACTION_LOAD_REGISTER] = "load_register",
        [OF_ACTION_CONTROLLER] = "controller",
};

/* The keys each action type takes. */
static const char *const *const action_keys[_OF_ACTION_TYPE_MAX] = {
        [OF_ACTION_OUTPUT] = (const char *const[]) { "type", "port", NULL },
        [OF_ACTION_NORMAL] = (const char *const[]) { "type", NULL },
        [OF_ACTION_DROP] = (const char *const[]) { "type", NULL },
        [OF_ACTION_RESUBMIT] = (const char *const[]) { "type", "table", NULL },
        [OF_ACTION_SET_FIELD] = (const char *const[]) { "type", "field", "value", NULL },
        [OF_ACTION_MOD_DL_DST] = (const char *const[]) { "type", "mac", NULL },
        [OF_ACTION_CT] = (const char *const[]) { "type", "commit", "table", "zone", NULL },
        [OF_ACTION_LOAD_REGISTER] = (const char *const[]) { "type", "register", "value", NULL },
        [OF_ACTION_CONTROLLER] = (const char *const[]) { "type", NULL },
};

void of_value_done(OfValue *v) {
        if (v->type == OF_VALUE_STRING)
                free(v->string);
        *v = (OfValue) {};
}

void of_match_free(OfMatchField *m, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(m[i].name);
                of_value_done(&m[i].value);
        }
        free(m);
}

static void of_action_done(OfAction *a) {
        switch (a->type) {
        case OF_ACTION_OUTPUT:
                free(a->output.port);
                break;
        case OF_ACTION_SET_FIELD:
                free(a->set_field.field);
                of_value_done(&a->set_field.value);
                break;
        default:
                break;
        }
}

void of_actions_free(OfAction *a, size_t n) {
        for (size_t i = 0; i < n; i++)
                of_action_done(&a[i]);
        free(a);
}

/* A string or an integer; anything else is reported at path. */
static int value_parse(OfValue *v, json_object *j, const char *path, Diag *d) {
        switch (json_object_get_type(j)) {
        case json_type_string:
                v->string = strdup(json_object_get_string(j));
                if (!v->string)
                        return -ENOMEM;
                v->type = OF_VALUE_STRING;
                return 1;
        case json_type_int:
                /* json-c keeps integers above INT64_MAX as unsigned; get_int64 would clamp them. */
                if (json_object_get_int64(j) == INT64_MAX && json_object_get_uint64(j) > (uint64_t) INT64_MAX) {
                        v->type = OF_VALUE_UINT64;
                        v->u64 = json_object_get_uint64(j);
                } else {
                        v->type = OF_VALUE_INT64;
                        v->i64 = json_object_get_int64(j);
                }
                return 1;
        default:
                diag_error(d, path, "expected a string or an integer, got %s", json_type_name(json_object_get_type(j)));
                return -EINVAL;
        }
}

int of_match_parse(json_object *o, const char *path, bool strings_only,
                   OfMatchField **ret, size_t *ret_n, Diag *d) {
        OfMatchField *m;
        int r = 0;

        if (!json_object_is_type(o, json_type_object)) {
                diag_error(d, path, "expected an object of %s, got %s", strings_only ? "strings" : "strings and integers",
                           json_type_name(json_object_get_type(o)));
                return -EINVAL;
        }

        m = *ret = calloc(json_object_object_length(o) + 1, sizeof(OfMatchField));
        if (!m)
                return -ENOMEM;
        json_object_object_foreach(o, name, value) {
                OfMatchField *f = &m[*ret_n];
                char fp[JSON_PATH_MAX];
                int k;

                of_path(fp, sizeof fp, path, name, SIZE_MAX);
                if (strings_only && !json_object_is_type(value, json_type_string)) {
                        diag_error(d, fp, "expected a string, got %s", json_type_name(json_object_get_type(value)));
                        r = -EINVAL;
                        continue;
                }
                k = value_parse(&f->value, value, fp, d);
                if (k == -ENOMEM)
                        return k;
                if (k < 0) {
                        r = k;
                        continue;
                }
                (*ret_n)++;
                f->name = strdup(name);
                if (!f->name)
                        return -ENOMEM;
        }
        return r < 0 ? r : 1;
}

/* "a, b, c" into buf: the lists here are short and fixed. */
static const char *join(const char *const *l, char *buf, size_t size) {
        buf[0] = 0;
        for (size_t i = 0; l[i]; i++)
                snprintf(buf + strlen(buf), size - strlen(buf), "%s%s", i > 0 ? ", " : "", l[i]);
        return buf;
}

/* Keys an action of type t does not take, each reported at the key. */
static int check_action_keys(json_object *o, const char *path, OfActionType t, Diag *d) {
        const char *const *allowed = action_keys[t];
        char fields[128];
        int ret = 0;

        json_object_object_foreach(o, key, value) {
                _cleanup_(freep) char *kp = NULL;
                bool ok = false;

                (void) value;
                for (const char *const *k = allowed; *k && !ok; k++)
                        ok = streq(*k, key);
                if (ok)
                        continue;
                kp = json_path_key(path, key);
                if (!kp)
                        return -ENOMEM;
                join(allowed + 1, fields, sizeof fields);
                if (fields[0])
                        diag_error(d, kp, "unknown key: a \"%s\" action takes only type and %s",
                                   action_types[t], fields);
                else
                        diag_error(d, kp, "unknown key: a \"%s\" action takes no fields besides type",
                                   action_types[t]);
                ret = -EINVAL;
        }
        return ret;
}

static int parse_set_field(OfAction *a, json_object *o, const char *path, Diag *d) {
        char vp[JSON_PATH_MAX];
        json_object *v;
        int r, ret = 0;

        of_path(vp, sizeof vp, path, "value", SIZE_MAX);
        r = json_get_string_dup(o, path, "field", true, &a->set_field.field, d);
        if (r <= 0)
                ret = r < 0 ? r : -EINVAL;
        if (!json_object_object_get_ex(o, "value", &v)) {
                diag_error(d, vp, "required field is missing");
                return -EINVAL;
        }
        RET_GATHER(ret, value_parse(&a->set_field.value, v, vp, d));
        return ret;
}

/* The fields of a typed action (type already set). */
static int parse_action_fields(OfAction *a, json_object *o, const char *path, Diag *d) {
        int64_t i;
        int r, ret = 0;

        switch (a->type) {
        case OF_ACTION_OUTPUT:
                r = json_get_string_dup(o, path, "port", true, &a->output.port, d);
                return r <= 0 ? (r < 0 ? r : -EINVAL) : 0;
        case OF_ACTION_RESUBMIT:
                r = json_get_int(o, path, "table", true, 0, OF_TABLE_MAX, &i, d);
                a->resubmit.table = (uint8_t) (r > 0 ? i : 0);
                return r <= 0 ? -EINVAL : 0;
        case OF_ACTION_SET_FIELD:
                return parse_set_field(a, o, path, d);
        case OF_ACTION_MOD_DL_DST:
                r = json_get_mac(o, path, "mac", true, a->mod_dl_dst.mac, d);
                return r <= 0 ? -EINVAL : 0;
        case OF_ACTION_CT:
                a->ct.table = a->ct.zone = -1;
                RET_GATHER(ret, json_get_bool(o, path, "commit", &a->ct.commit, d));
                if ((r = json_get_int(o, path, "table", false, 0, OF_TABLE_MAX, &i, d)) > 0)
                        a->ct.table = (int) i;
                RET_GATHER(ret, r);
                if ((r = json_get_int(o, path, "zone", false, 0, UINT16_MAX, &i, d)) > 0)
                        a->ct.zone = (int) i;
                RET_GATHER(ret, r);
                return ret;
        case OF_ACTION_LOAD_REGISTER:
                if ((r = json_get_int(o, path, "register", true, 0, 15, &i, d)) > 0)
                        a->load_register.reg = (uint8_t) i;
                else
                        ret = -EINVAL;
                if ((r = json_get_int(o, path, "value", true, 0, UINT32_MAX, &i, d)) > 0)
                        a->load_register.value = (uint32_t) i;
                else
                        ret = -EINVAL;
                return ret;
        default:
                return 0;
        }
}

int of_action_parse(void *action, json_object *o, const char *path, Diag *d) {
        OfAction *a = action;
        int r, t, ret;

        if (!json_expect_object(o, path, d))
                return -EINVAL;
        if (!json_object_object_get_ex(o, "type", NULL)) {
                _cleanup_(freep) char *tp = json_path_key(path, "type");

                char types[128];

                diag_error(d, tp ?: path, "required field is missing, expected one of: %s",
                           join(action_types, types, sizeof types));
                return -EINVAL;
        }
        /* Without a known type there is nothing to check the other keys against. */
        r = json_get_enum(o, path, "type", action_types, &t, d);
        if (r <= 0)
                return -EINVAL;

        a->type = (OfActionType) t;
        ret = check_action_keys(o, path, a->type, d);
        if (ret == -ENOMEM)
                return ret;
        r = parse_action_fields(a, o, path, d);
        if (r == -ENOMEM)
                return r;
        return RET_GATHER(ret, r);
}
