/*
 * driver.c: a stand-in for libFuzzer when the compiler is not clang. It
 * accepts libFuzzer's command line (-runs=N, other -flags ignored, then
 * corpus folders), runs every corpus file through the harness, then N
 * mutations of them drawn from a fixed-seed generator, so a run is
 * repeatable. It finds no new coverage; it only keeps the harness exercised.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { MAX_INPUTS = 4096, MAX_LEN = 4096 };

static uint8_t *inputs[MAX_INPUTS];
static size_t lens[MAX_INPUTS];
static size_t n_inputs;
static uint64_t state = 0x9e3779b97f4a7c15u;

static uint64_t next(void)
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}

static void load_dir(const char *path)
{
    DIR *d = opendir(path);
    if (d == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n_inputs < MAX_INPUTS) {
        if (e->d_name[0] == '.')
            continue;
        char file[4096];
        snprintf(file, sizeof file, "%s/%s", path, e->d_name);
        FILE *f = fopen(file, "rb");
        if (f == NULL)
            continue;
        uint8_t *buf = malloc(MAX_LEN);
        size_t n = fread(buf, 1, MAX_LEN, f);
        fclose(f);
        inputs[n_inputs] = buf;
        lens[n_inputs++] = n;
    }
    closedir(d);
}

int main(int argc, char **argv)
{
    long runs = 1000;
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "-runs=", 6) == 0)
            runs = strtol(argv[i] + 6, NULL, 10);
        else if (argv[i][0] != '-')
            load_dir(argv[i]);
    }
    for (size_t i = 0; i < n_inputs; i++)
        LLVMFuzzerTestOneInput(inputs[i], lens[i]);
    static uint8_t buf[MAX_LEN];
    for (long r = 0; r < runs; r++) {
        size_t len = 0;
        if (n_inputs > 0) {
            size_t k = (size_t)(next() % n_inputs);
            len = lens[k];
            memcpy(buf, inputs[k], len);
        }
        int edits = 1 + (int)(next() % 8);
        for (int e = 0; e < edits; e++) {
            switch (next() % 4) {
            case 0: /* flip a byte */
                if (len)
                    buf[next() % len] ^= (uint8_t)(1 + next() % 255);
                break;
            case 1: /* truncate */
                if (len)
                    len = (size_t)(next() % len);
                break;
            case 2: /* append random bytes */
                for (int j = (int)(next() % 16); j > 0 && len < MAX_LEN; j--)
                    buf[len++] = (uint8_t)next();
                break;
            default: /* set a byte to an edge value */
                if (len)
                    buf[next() % len] = (uint8_t[]){0, 1, 0x7f, 0x80, 0xff}[next() % 5];
                break;
            }
        }
        LLVMFuzzerTestOneInput(buf, len);
    }
    printf("driver: %zu corpus inputs, %ld mutations, no crash\n", n_inputs, runs);
    for (size_t i = 0; i < n_inputs; i++)
        free(inputs[i]);
    return 0;
}
