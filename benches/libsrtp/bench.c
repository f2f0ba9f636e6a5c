/*
 * libsrtp 2.x peer benchmark for benches/srtp.rs: protect and unprotect of an RTP packet
 * with a 12-byte header and a 160-byte payload, per profile, in ns per operation.
 *
 * It mirrors the criterion bench: protect copies the plaintext packet into a buffer,
 * stamps a new sequence number and protects in place; unprotect copies a pre-protected
 * packet (4096 distinct sequence numbers, then a fresh session, untimed) into the buffer
 * and unprotects it in place with the replay window on. Time is the thread CPU time
 * (CLOCK_THREAD_CPUTIME_ID), as in the criterion bench. Build and run with run.sh.
 */
#include <srtp2/srtp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HDR 12
#define PAYLOAD 160
#define PKT (HDR + PAYLOAD)
#define MAXPKT (PKT + SRTP_MAX_TRAILER_LEN)
#define NPRE 4096
#define OPS 2000000

static uint8_t key[SRTP_MAX_KEY_LEN];

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void make_packet(uint8_t *p, uint16_t seq) {
    p[0] = 0x80;
    p[1] = 0x60;
    p[2] = seq >> 8;
    p[3] = seq & 0xff;
    p[4] = 0; p[5] = 0; p[6] = 0x12; p[7] = 0x34;          /* timestamp */
    p[8] = 0xca; p[9] = 0xfe; p[10] = 0xba; p[11] = 0xbe;  /* SSRC */
    for (int i = 0; i < PAYLOAD; i++) p[HDR + i] = (uint8_t)i;
}

static srtp_t session(void (*set)(srtp_crypto_policy_t *), int inbound) {
    srtp_policy_t policy;
    memset(&policy, 0, sizeof(policy));
    set(&policy.rtp);
    set(&policy.rtcp);
    policy.ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
    policy.key = key;
    policy.window_size = 128;
    policy.allow_repeat_tx = 0;
    policy.next = NULL;
    srtp_t s;
    if (srtp_create(&s, &policy) != srtp_err_status_ok) {
        fprintf(stderr, "srtp_create failed\n");
        exit(1);
    }
    return s;
}

static void bench(const char *name, void (*set)(srtp_crypto_policy_t *)) {
    uint8_t plain[PKT];
    uint8_t buf[MAXPKT];
    static uint8_t pre[NPRE][MAXPKT];
    static int pre_len[NPRE];
    make_packet(plain, 0);

    /* protect */
    srtp_t tx = session(set, 0);
    double t0 = now_ns();
    for (long i = 0; i < OPS; i++) {
        memcpy(buf, plain, PKT);
        buf[2] = (uint8_t)(i >> 8);
        buf[3] = (uint8_t)i;
        int len = PKT;
        if (srtp_protect(tx, buf, &len) != srtp_err_status_ok) {
            fprintf(stderr, "protect failed at %ld\n", i);
            exit(1);
        }
    }
    double protect_ns = (now_ns() - t0) / OPS;
    srtp_dealloc(tx);

    /* pre-protected packets for unprotect */
    tx = session(set, 0);
    for (int i = 0; i < NPRE; i++) {
        make_packet(pre[i], (uint16_t)i);
        pre_len[i] = PKT;
        if (srtp_protect(tx, pre[i], &pre_len[i]) != srtp_err_status_ok) exit(1);
    }
    srtp_dealloc(tx);

    double total = 0;
    long done = 0;
    while (done < OPS) {
        srtp_t rx = session(set, 1);
        double t = now_ns();
        for (int i = 0; i < NPRE; i++) {
            memcpy(buf, pre[i], pre_len[i]);
            int len = pre_len[i];
            if (srtp_unprotect(rx, buf, &len) != srtp_err_status_ok || len != PKT) {
                fprintf(stderr, "unprotect failed at %d\n", i);
                exit(1);
            }
        }
        total += now_ns() - t;
        done += NPRE;
        srtp_dealloc(rx);
    }
    /* the last packet decrypted to the plaintext */
    make_packet(plain, NPRE - 1);
    if (memcmp(buf, plain, PKT) != 0) {
        fprintf(stderr, "plaintext mismatch\n");
        exit(1);
    }
    printf("libsrtp %s %s  protect %7.1f ns/op  unprotect %7.1f ns/op\n",
           srtp_get_version_string(), name, protect_ns, total / done);
}

int main(void) {
    for (int i = 0; i < SRTP_MAX_KEY_LEN; i++) key[i] = (uint8_t)(i * 7 + 1);
    if (srtp_init() != srtp_err_status_ok) return 1;
    bench("AES_CM_128_HMAC_SHA1_80", srtp_crypto_policy_set_rtp_default);
    bench("AES_CM_128_HMAC_SHA1_32", srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32);
    bench("AEAD_AES_128_GCM       ", srtp_crypto_policy_set_aes_gcm_128_16_auth);
    srtp_shutdown();
    return 0;
}
