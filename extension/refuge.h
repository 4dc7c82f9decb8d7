/*
 * refuge.h
 *		The refuge module: the preload, and helpers every file may use.
 */
#ifndef REFUGE_H
#define REFUGE_H

/* a relation of schema refuge by name, or InvalidOid */
extern Oid	RefugeRelid(const char *name);

/* one hexadecimal digit's value, or -1 */
extern int	RefugeHexValue(char c);

/* loaded by shared_preload_libraries?  (an error unless) */
extern bool RefugePreloaded;
extern void RefugeRequirePreload(const char *what);
extern void RefugeDocumentKeyInit(void);

/* the settings of demographic deduplication (names.c) */
extern void RefugeNamesInit(void);

/*
 * A person's canonical name forms (the non-null elements of a text[], 16 at
 * most, each cut to the matcher's longest name), and the best comparison
 * level over two people's forms (names.c)
 */
#define REFUGE_NAME_MAX_FORMS 16
struct ArrayType;
extern int	RefugeNameForms(struct ArrayType *a, char **forms, int *lens, const char *field);
extern int	RefugeFormsLevel(char **fa, const int *la, int na, char **fb, const int *lb, int nb);

/* the settings of printed documents (pdf_text.c) */
extern void RefugePdfInit(void);

/*
 * Marks an error as the API's own (schema "refuge"), like refuge.raise_field:
 * the client gets it without PL/pgSQL's context lines (log_privacy.c).
 */
#define errrefuge() err_generic_string(PG_DIAG_SCHEMA_NAME, "refuge")

#endif							/* REFUGE_H */
