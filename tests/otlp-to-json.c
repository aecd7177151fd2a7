/* SPDX-License-Identifier: MIT */
/*
 * otlp-to-json SIGNAL FILE: prints the OTLP/JSON form of a protobuf export
 * request body (FILE "-" is standard input), as the forwarder would send it.
 * fuzz-seeds.py turns the protobuf captures into JSON seeds with it.
 */
#include <stdio.h>
#include <string.h>

#include "otlp-encode.h"
#include "otlp.h"
#include "util.h"

int main(int argc, char **argv)
{
    static const char *const names[] = {"logs", "metrics", "traces"};
    struct ccr_buf in = {0};
    struct ccr_buf out = {0};
    char chunk[65536];
    size_t n;
    int signal = -1;

    for (int i = 0; argc == 3 && i < 3; i++) {
        if (strcmp(argv[1], names[i]) == 0) {
            signal = i;
        }
    }
    FILE *f = signal < 0 ? NULL : strcmp(argv[2], "-") == 0 ? stdin : fopen(argv[2], "rb");
    if (f == NULL) {
        fprintf(stderr, "usage: otlp-to-json logs|metrics|traces FILE\n");
        return 2;
    }
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        ccr_buf_append(&in, chunk, n);
    }
    if (f != stdin) {
        fclose(f);
    }
    int rc = ccr_otlp_encode_json((enum ccr_signal)signal, in.data, in.len, &out);
    if (rc == 0) {
        fwrite(out.data, 1, out.len, stdout);
    } else {
        fprintf(stderr, "otlp-to-json: %s is not a protobuf %s request\n", argv[2], argv[1]);
    }
    ccr_buf_finish(&in);
    ccr_buf_finish(&out);
    return rc == 0 ? 0 : 1;
}
