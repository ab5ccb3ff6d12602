/* Tokenizer for proxy-multi.conf: words, [bracketed] addresses, ':' and ';',
 * with blanks and '#' comments skipped; plus the strict integer parser the
 * config grammar uses. */
#include "mtp_parse_config.h"

#define CFG_MAX_LEN ((size_t)16 << 20)
#define CFG_MAX_DIGITS 19

static int cfg_is_word_byte(uint8_t b) {
  return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') || b == '.' ||
         b == '_' || b == '-';
}

static int cfg_is_bracketed_byte(uint8_t b) {
  return cfg_is_word_byte(b) || b == ':';
}

int32_t mtp_cfg_lexer_init(mtp_cfg_lexer *lexer, const uint8_t *data, size_t len) {
  if (!lexer || (!data && len > 0)) {
    return MTP_CFG_ERR_ARG;
  }
  if (len > CFG_MAX_LEN) {
    return MTP_CFG_ERR_TOO_BIG;
  }
  lexer->data = data;
  lexer->len = len;
  lexer->pos = 0;
  lexer->line = 1;
  return 0;
}

/* Moves past spaces, tabs, CRs, LFs (counting lines) and comments. */
static void cfg_skip_blanks(mtp_cfg_lexer *lx) {
  int in_comment = 0;
  for (; lx->pos < lx->len; lx->pos++) {
    uint8_t b = lx->data[lx->pos];
    if (b == '\n') {
      in_comment = 0;
      if (lx->line < INT32_MAX) {
        lx->line++;
      }
    } else if (in_comment) {
      continue;
    } else if (b == '#') {
      in_comment = 1;
    } else if (b != ' ' && b != '\t' && b != '\r') {
      return;
    }
  }
}

/* Offset of the first byte at or after from that accept() rejects. */
static size_t cfg_run_end(const mtp_cfg_lexer *lx, size_t from, int (*accept)(uint8_t)) {
  while (from < lx->len && accept(lx->data[from])) {
    from++;
  }
  return from;
}

static int32_t cfg_emit(mtp_cfg_token *tok, int32_t kind, int32_t line, size_t start, size_t len) {
  tok->kind = kind;
  tok->line = line;
  tok->start = start;
  tok->len = len;
  return kind;
}

int32_t mtp_cfg_next_token(mtp_cfg_lexer *lx, mtp_cfg_token *tok) {
  if (!lx || !tok || (!lx->data && lx->len > 0)) {
    return MTP_CFG_TOK_ERROR;
  }
  cfg_skip_blanks(lx);
  size_t start = lx->pos;
  if (start >= lx->len) {
    return cfg_emit(tok, MTP_CFG_TOK_END, lx->line, start, 0);
  }
  uint8_t first = lx->data[start];
  if (first == ':' || first == ';') {
    lx->pos = start + 1;
    return cfg_emit(tok, MTP_CFG_TOK_PUNCT, lx->line, start, 1);
  }
  if (first == '[') {
    size_t end = cfg_run_end(lx, start + 1, cfg_is_bracketed_byte);
    if (end >= lx->len) {
      /* Unterminated: blame the opening bracket. */
      return cfg_emit(tok, MTP_CFG_TOK_ERROR, lx->line, start, 1);
    }
    if (lx->data[end] != ']') {
      return cfg_emit(tok, MTP_CFG_TOK_ERROR, lx->line, end, 1);
    }
    lx->pos = end + 1;
    return cfg_emit(tok, MTP_CFG_TOK_BRACKETED, lx->line, start + 1, end - start - 1);
  }
  if (cfg_is_word_byte(first)) {
    size_t end = cfg_run_end(lx, start, cfg_is_word_byte);
    lx->pos = end;
    return cfg_emit(tok, MTP_CFG_TOK_WORD, lx->line, start, end - start);
  }
  return cfg_emit(tok, MTP_CFG_TOK_ERROR, lx->line, start, 1);
}

int32_t mtp_cfg_parse_int(const uint8_t *s, size_t len, int64_t min, int64_t max, int64_t *out) {
  if (!out || (!s && len > 0)) {
    return MTP_CFG_ERR_ARG;
  }
  size_t i = 0;
  int negative = len > 0 && s[0] == '-';
  if (negative) {
    i = 1;
  }
  size_t digits = len - i;
  if (digits == 0 || digits > CFG_MAX_DIGITS) {
    return MTP_CFG_ERR_NOT_A_NUMBER;
  }
  for (size_t j = i; j < len; j++) {
    if (s[j] < '0' || s[j] > '9') {
      return MTP_CFG_ERR_NOT_A_NUMBER;
    }
  }
  /* Accumulate the magnitude unsigned: 19 digits always fit in uint64. */
  uint64_t magnitude = 0;
  for (; i < len; i++) {
    magnitude = magnitude * 10 + (uint64_t)(s[i] - '0');
  }
  int64_t value;
  if (negative) {
    if (magnitude > (uint64_t)INT64_MAX + 1) {
      return MTP_CFG_ERR_RANGE;
    }
    value = magnitude == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)magnitude;
  } else {
    if (magnitude > (uint64_t)INT64_MAX) {
      return MTP_CFG_ERR_RANGE;
    }
    value = (int64_t)magnitude;
  }
  if (value < min || value > max) {
    return MTP_CFG_ERR_RANGE;
  }
  *out = value;
  return 0;
}
