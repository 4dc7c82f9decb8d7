/*
 * fuzz_names.c
 *		libFuzzer target: the name rules.  The input, split at the first
 *		NUL (or in half), is two names: each is made canonical, keyed token
 *		by token and compared with the other.  Outputs must stay within
 *		their bounds and a name must compare with itself at its own level.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		a[RF_NAME_MAX_LEN + 1];
	char		b[RF_NAME_MAX_LEN + 1];
	char		keys[RF_NAME_MAX_KEYS][RF_NAME_KEY_LEN];
	const uint8_t *nul = memchr(data, 0, size);
	size_t		split = nul ? (size_t) (nul - data) : size / 2;
	rf_name_cmp r;
	int			na;

	na = rf_name_canon((const char *) data, split, a, sizeof(a));
	rf_name_canon((const char *) data + split, size - split, b, sizeof(b));
	if (strlen(a) > RF_NAME_MAX_LEN || strlen(b) > RF_NAME_MAX_LEN || na > RF_NAME_MAX_TOKENS)
		abort();
	for (char *t = strtok(a, " "); t; t = strtok(NULL, " "))
	{
		int			n = rf_name_token_keys(t, strlen(t), keys);

		if (n < 1 || n > RF_NAME_MAX_KEYS)
			abort();
		for (int i = 0; i < n; i++)
			if (strlen(keys[i]) >= RF_NAME_KEY_LEN)
				abort();
	}
	rf_name_canon((const char *) data, split, a, sizeof(a));
	rf_name_compare(a, strlen(a), b, strlen(b), &r);
	if (r.level < 0 || r.level > 5 || r.similarity < 0 || r.similarity > 1.0000001)
		abort();
	if (na >= 2)
	{
		rf_name_compare(a, strlen(a), a, strlen(a), &r);
		if (r.level != 5)
			abort();
	}
	(void) rf_jaro_winkler((const char *) data, split, (const char *) data + split, size - split);
	return 0;
}
