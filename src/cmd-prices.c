/* SPDX-License-Identifier: MIT */
/* `ccrun prices`: the effective price table and where each entry came from. */
#include "cmd.h"

#include <getopt.h>
#include <stdlib.h>

#include <jansson.h>

#include "config.h"
#include "project.h"
#include "util.h"

static const char usage[] = "usage: ccrun prices [--json] [--dir DIR]\n";
static const char *const kinds[4] = {"input", "output", "cache_read", "cache_write"};

static json_t *price_json(const struct ccr_price *p)
{
    json_t *o = json_object();

    json_object_set_new(o, "model", json_string(p->pattern));
    for (int k = 0; k < 4; k++) {
        json_object_set_new(o, kinds[k], json_real(p->usd[k]));
    }
    if (p->long_threshold > 0) {
        json_t *tier = json_object();
        json_object_set_new(tier, "threshold", json_integer(p->long_threshold));
        for (int k = 0; k < 4; k++) {
            json_object_set_new(tier, kinds[k], json_real(p->long_usd[k]));
        }
        json_object_set_new(o, "long_context", tier);
    }
    json_object_set_new(o, "origin", json_string(p->origin));
    json_object_set_new(o, "source", p->source ? json_string(p->source) : json_null());
    json_object_set_new(o, "taken", p->taken ? json_string(p->taken) : json_null());
    return o;
}

static void print_table(const struct ccr_prices *t)
{
    printf("%-22s %8s %8s %8s %8s  %s\n", "model (USD per MTok)", "input", "output", "cache rd",
           "cache wr", "from");
    for (size_t i = 0; i < t->n; i++) {
        const struct ccr_price *p = &t->entries[i];
        printf("%-22s %8.3f %8.3f %8.3f %8.3f  %s", p->pattern, p->usd[0], p->usd[1], p->usd[2],
               p->usd[3], p->origin);
        if (p->taken != NULL) {
            printf(" (%s)", p->taken);
        }
        putchar('\n');
        if (p->long_threshold > 0) {
            printf("%-22s %8.3f %8.3f %8.3f %8.3f  above %lld prompt tokens\n", "", p->long_usd[0],
                   p->long_usd[1], p->long_usd[2], p->long_usd[3], (long long)p->long_threshold);
        }
    }
    printf("\nModels not listed are priced by Claude Code itself, at Claude prices.\n");
}

static int run_prices(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"dir", required_argument, NULL, 'C'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct ccr_opts opts = {0};
    struct ccr_project project;
    struct ccr_config config = {0};
    char *cause = NULL;
    int c;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "C:jh", longopts, NULL)) != -1) {
        if (c == 'C') {
            opts.dir = optarg;
        } else if (c == 'j') {
            opts.json = 1;
        } else if (c == 'h') {
            fputs(usage, stdout);
            fputs("\nLists the prices ccrun re-prices tokens with: built in, then the user's\n"
                  "~/.config/ccrun/config, then the project's .ccrun/config, later winning.\n",
                  stdout);
            return 0;
        } else {
            ccr_cmd_error("prices: unknown option %s", argv[optind - 1]);
            fputs(usage, stderr);
            return 2;
        }
    }
    if (ccr_project_find(opts.dir, &project, &cause) < 0) {
        ccr_cmd_error("prices: %s", cause);
        free(cause);
        return 1;
    }
    ccr_cmd_load_config(project.dir, &config);
    if (opts.json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < config.prices.n; i++) {
            json_array_append_new(arr, price_json(&config.prices.entries[i]));
        }
        json_dumpf(arr, stdout, JSON_INDENT(2));
        putchar('\n');
        json_decref(arr);
    } else {
        print_table(&config.prices);
    }
    ccr_config_finish(&config);
    ccr_project_finish(&project);
    return 0;
}

const struct ccr_cmd ccr_cmd_prices = {
    .name = "prices",
    .usage = usage,
    .run = run_prices,
};
