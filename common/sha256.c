/*
 * sha256.c — SHA-256 of files and buffers for the run manifest.
 *
 * OpenSSL's EVP interface does the hashing (a well-kept library rather than
 * our own implementation); this file only streams files through it and
 * formats lowercase hex.
 */
#include "tifa_common.h"

#include <errno.h>
#include <openssl/evp.h>

static void to_hex(const unsigned char *md, unsigned n, char hex[65])
{
    static const char digits[] = "0123456789abcdef";
    for (unsigned i = 0; i < n && i < 32; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[64] = '\0';
}

tifa_status tifa_sha256_file(const char *path, char hex[65])
{
    FILE *in = fopen(path, "rb");
    if (!in)
        return errno == ENOENT ? TIFA_ENOENT : TIFA_EIO;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
        EVP_MD_CTX_free(ctx);
        fclose(in);
        return TIFA_EINTERNAL;
    }
    unsigned char chunk[1 << 16];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, in)) > 0)
        EVP_DigestUpdate(ctx, chunk, got);
    tifa_status st = ferror(in) ? TIFA_EIO : TIFA_OK;
    fclose(in);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    EVP_DigestFinal_ex(ctx, md, &mdlen);
    EVP_MD_CTX_free(ctx);
    if (st == TIFA_OK)
        to_hex(md, mdlen, hex);
    return st;
}

void tifa_sha256_buf(const void *data, size_t n, char hex[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    EVP_Digest(data, n, md, &mdlen, EVP_sha256(), NULL);
    to_hex(md, mdlen, hex);
}
