/* The 12-byte process id of the RPC protocol (docs/PROTOCOL.md 4.6): ip, port,
 * pid, utime, little-endian on the wire. */
#include "mtp_pid.h"

#define PID_WIRE_LEN 12

void mtp_process_id_init(mtp_process_id *out, uint32_t ip, int16_t port, int64_t os_pid,
                         int32_t utime) {
  if (!out) {
    return;
  }
  out->ip = ip;
  out->port = port;
  /* The wire field is 16 bits: keep the low bits instead of refusing to run
   * on hosts with a large pid_max. The unsigned detour makes this defined
   * for negative input too. */
  out->pid = (uint16_t)((uint64_t)os_pid & 0xffffu);
  out->utime = utime;
}

static void put_le(uint8_t *out, uint32_t value, int bytes) {
  for (int i = 0; i < bytes; i++) {
    out[i] = (uint8_t)(value >> (8 * i));
  }
}

static uint32_t get_le(const uint8_t *in, int bytes) {
  uint32_t value = 0;
  for (int i = 0; i < bytes; i++) {
    value |= (uint32_t)in[i] << (8 * i);
  }
  return value;
}

void mtp_process_id_encode(const mtp_process_id *id, uint8_t *out) {
  if (!id || !out) {
    return;
  }
  put_le(out, id->ip, 4);
  put_le(out + 4, (uint16_t)id->port, 2);
  put_le(out + 6, id->pid, 2);
  put_le(out + 8, (uint32_t)id->utime, 4);
}

int32_t mtp_process_id_decode(const uint8_t *input, size_t len, mtp_process_id *out) {
  if ((!input && len) || !out) {
    return MTP_PID_ERR_ARG;
  }
  if (len < PID_WIRE_LEN) {
    return MTP_PID_ERR_SHORT;
  }
  out->ip = get_le(input, 4);
  out->port = (int16_t)get_le(input + 4, 2);
  out->pid = (uint16_t)get_le(input + 6, 2);
  out->utime = (int32_t)get_le(input + 8, 4);
  return 0;
}

int32_t mtp_process_id_matches(const mtp_process_id *own, const mtp_process_id *peer) {
  if (!own || !peer) {
    return 0;
  }
  return (!peer->ip || peer->ip == own->ip) && (!peer->port || peer->port == own->port) &&
         (!peer->pid || peer->pid == own->pid) && (!peer->utime || peer->utime == own->utime);
}
