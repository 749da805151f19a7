/* The TOML parser: a corpus of valid documents with their values and
 * positions, and of invalid ones with their exact error. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "recipes/toml.h"

static struct toml_value *parse_ok(const char *doc)
{
	struct toml_value *root = NULL;

	assert_ok(toml_parse("t.toml", doc, strlen(doc), &root, &test_err));
	assert_non_null(root);
	assert_int_equal(root->type, TOML_TABLE);
	return root;
}

/* Follows a path of keys ("a", "b") and array indexes ("#2") from root. */
static const struct toml_value *get(const struct toml_value *v, const char *path)
{
	char buf[256];
	char *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *k = strtok_r(buf, "/", &save); k; k = strtok_r(NULL, "/", &save)) {
		if (k[0] == '#') {
			size_t i = strtoul(k + 1, NULL, 10);
			assert_int_equal(v->type, TOML_ARRAY);
			assert_true(i < v->u.arr.len);
			v = v->u.arr.items[i];
		} else {
			v = toml_table_get(v, k);
			if (!v)
				fail_msg("no key '%s' in path '%s'", k, path);
		}
	}
	return v;
}

static void assert_pos(const struct toml_value *v, uint32_t line, uint32_t col)
{
	if (v->pos.line != line || v->pos.col != col)
		fail_msg("position %u:%u, want %u:%u", v->pos.line, v->pos.col, line, col);
}

static void assert_str(const struct toml_value *root, const char *path, const char *want)
{
	const struct toml_value *v = get(root, path);

	assert_int_equal(v->type, TOML_STRING);
	assert_int_equal(v->u.str.len, strlen(want));
	assert_string_equal(v->u.str.ptr, want);
}

static void assert_int(const struct toml_value *root, const char *path, int64_t want)
{
	const struct toml_value *v = get(root, path);

	assert_int_equal(v->type, TOML_INTEGER);
	assert_true(v->u.integer == want);
}

static void assert_float(const struct toml_value *root, const char *path, double want)
{
	const struct toml_value *v = get(root, path);

	assert_int_equal(v->type, TOML_FLOAT);
	if (isnan(want))
		assert_true(isnan(v->u.flt));
	else
		assert_true(v->u.flt == want && signbit(v->u.flt) == signbit(want));
}

static void test_toml_integers(void **state)
{
	struct toml_value *r = parse_ok("a = 42\n"
					"b = +17\n"
					"c = -17\n"
					"d = 0\n"
					"e = -0\n"
					"f = 1_000_000\n"
					"g = 0xDEAD_beef\n"
					"h = 0o755\n"
					"i = 0b1101_0110\n"
					"max = 9223372036854775807\n"
					"min = -9223372036854775808\n"
					"hmax = 0x7FFFFFFFFFFFFFFF\n");

	assert_int(r, "a", 42);
	assert_int(r, "b", 17);
	assert_int(r, "c", -17);
	assert_int(r, "d", 0);
	assert_int(r, "e", 0);
	assert_int(r, "f", 1000000);
	assert_int(r, "g", 0xDEADBEEF);
	assert_int(r, "h", 0755);
	assert_int(r, "i", 0xD6);
	assert_int(r, "max", INT64_MAX);
	assert_int(r, "min", INT64_MIN);
	assert_int(r, "hmax", INT64_MAX);
	assert_pos(get(r, "g"), 7, 5);
	toml_free(r);
}

static void test_toml_floats(void **state)
{
	struct toml_value *r = parse_ok("a = 3.14\n"
					"b = -0.01\n"
					"c = 5e+22\n"
					"d = 1e06\n"
					"e = -2E-2\n"
					"f = 6.626e-34\n"
					"g = 224_617.445_991_228\n"
					"h = -0.0\n"
					"i = inf\n"
					"j = -inf\n"
					"k = +inf\n"
					"l = nan\n"
					"m = -nan\n"
					"n = 1e-400\n");

	assert_float(r, "a", 3.14);
	assert_float(r, "b", -0.01);
	assert_float(r, "c", 5e22);
	assert_float(r, "d", 1e6);
	assert_float(r, "e", -2e-2);
	assert_float(r, "f", 6.626e-34);
	assert_float(r, "g", 224617.445991228);
	assert_float(r, "h", -0.0);
	assert_float(r, "i", INFINITY);
	assert_float(r, "j", -INFINITY);
	assert_float(r, "k", INFINITY);
	assert_float(r, "l", NAN);
	assert_float(r, "m", NAN);
	assert_float(r, "n", 0.0);
	toml_free(r);
}

static void test_toml_booleans_and_types(void **state)
{
	struct toml_value *r = parse_ok("t = true\nf = false\n");

	assert_int_equal(get(r, "t")->type, TOML_BOOL);
	assert_true(get(r, "t")->u.boolean);
	assert_false(get(r, "f")->u.boolean);
	assert_string_equal(toml_type_name(TOML_BOOL), "boolean");
	assert_string_equal(toml_type_name(TOML_DATETIME_LOCAL), "datetime-local");
	assert_string_equal(toml_type_name(TOML_TABLE), "table");
	assert_null(toml_table_get(get(r, "t"), "x"));
	assert_null(toml_table_get(NULL, "x"));
	assert_null(toml_table_get(r, "missing"));
	assert_string_equal(toml_table_get_kv(r, "f")->key, "f");
	assert_int_equal(toml_table_get_kv(r, "f")->key_pos.line, 2);
	toml_free(r);
	toml_free(NULL);
}

static void test_toml_strings(void **state)
{
	struct toml_value *r =
	    parse_ok("basic = \"tab\\there \\\"q\\\" \\\\ \\b\\f\\r\\n\\u00E9\\U0001F600\"\n"
		     "literal = 'C:\\Users\\nodejs'\n"
		     "ml = \"\"\"\nRoses\nare \"red\"\"\"\"\n"
		     "ml_crlf = \"\"\"\r\na\r\nb\"\"\"\n"
		     "fold = \"\"\"\\\n   The quick \\\n\n   fox.\\\n   \"\"\"\n"
		     "fold_blanks = \"\"\"a \\  \t\n  b\"\"\"\n"
		     "mll = '''\nfirst\n  'quoted' ''it'' '''''\n"
		     "raw_tab = \"a\tb\"\n"
		     "nul = \"x\\u0000y\"\n"
		     "empty = \"\"\n"
		     "utf8 = \"Ǽ中😀\"\n");

	assert_str(r, "basic", "tab\there \"q\" \\ \b\f\r\n\xC3\xA9\xF0\x9F\x98\x80");
	assert_str(r, "literal", "C:\\Users\\nodejs");
	assert_str(r, "ml", "Roses\nare \"red\"");
	assert_str(r, "ml_crlf", "a\nb");
	assert_str(r, "fold", "The quick fox.");
	assert_str(r, "fold_blanks", "a b");
	assert_str(r, "mll", "first\n  'quoted' ''it'' ''");
	assert_str(r, "raw_tab", "a\tb");
	assert_int_equal(get(r, "nul")->u.str.len, 3);
	assert_memory_equal(get(r, "nul")->u.str.ptr, "x\0y", 4);
	assert_str(r, "empty", "");
	assert_str(r, "utf8", "Ǽ中😀");
	assert_pos(get(r, "ml"), 3, 6);
	toml_free(r);
}

static void assert_dt(const struct toml_value *v, enum toml_type type, const char *text)
{
	assert_int_equal(v->type, type);
	assert_string_equal(v->u.dt.text, text);
}

static void test_toml_datetimes(void **state)
{
	struct toml_value *r = parse_ok("odt1 = 1979-05-27T07:32:00Z\n"
					"odt2 = 1979-05-27T00:32:00.999999-07:00\n"
					"odt3 = 1979-05-27 07:32:00z\n"
					"odt4 = 1979-05-27t07:32:00+05:30\n"
					"ldt = 1979-05-27T00:32:00.1234567899\n"
					"ld = 2024-02-29\n"
					"lt = 07:32:00\n"
					"leap = 23:59:60\n"
					"arr = [1979-05-27, 07:32:00.5]\n");
	const struct toml_value *v;

	v = get(r, "odt1");
	assert_dt(v, TOML_DATETIME, "1979-05-27T07:32:00Z");
	assert_int_equal(v->u.dt.year, 1979);
	assert_int_equal(v->u.dt.month, 5);
	assert_int_equal(v->u.dt.day, 27);
	assert_int_equal(v->u.dt.hour, 7);
	assert_int_equal(v->u.dt.minute, 32);
	assert_int_equal(v->u.dt.offset_minutes, 0);
	v = get(r, "odt2");
	assert_dt(v, TOML_DATETIME, "1979-05-27T00:32:00.999999-07:00");
	assert_int_equal(v->u.dt.nanosecond, 999999000);
	assert_int_equal(v->u.dt.offset_minutes, -420);
	assert_dt(get(r, "odt3"), TOML_DATETIME, "1979-05-27T07:32:00Z");
	assert_dt(get(r, "odt4"), TOML_DATETIME, "1979-05-27T07:32:00+05:30");
	assert_int_equal(get(r, "odt4")->u.dt.offset_minutes, 330);
	v = get(r, "ldt");
	assert_dt(v, TOML_DATETIME_LOCAL, "1979-05-27T00:32:00.123456789");
	assert_int_equal(v->u.dt.nanosecond, 123456789);
	assert_dt(get(r, "ld"), TOML_DATE_LOCAL, "2024-02-29");
	assert_dt(get(r, "lt"), TOML_TIME_LOCAL, "07:32:00");
	assert_int_equal(get(r, "leap")->u.dt.second, 60);
	assert_dt(get(r, "arr/#0"), TOML_DATE_LOCAL, "1979-05-27");
	assert_dt(get(r, "arr/#1"), TOML_TIME_LOCAL, "07:32:00.5");
	assert_int_equal(get(r, "arr/#1")->u.dt.nanosecond, 500000000);
	assert_pos(get(r, "arr/#1"), 9, 20);
	toml_free(r);
}

static void test_toml_arrays(void **state)
{
	struct toml_value *r = parse_ok("empty = []\n"
					"mixed = [ 1, 'two', 3.0, [4], { five = 5 }, ]\n"
					"multi = [\n"
					"  1, # one\n"
					"  # nothing\n"
					"  2\n"
					"  ,\n"
					"]\n"
					"nested = [[1, 2], ['a']]\n");

	assert_int_equal(get(r, "empty")->type, TOML_ARRAY);
	assert_int_equal(get(r, "empty")->u.arr.len, 0);
	assert_int_equal(get(r, "mixed")->u.arr.len, 5);
	assert_int(r, "mixed/#0", 1);
	assert_str(r, "mixed/#1", "two");
	assert_float(r, "mixed/#2", 3.0);
	assert_int(r, "mixed/#3/#0", 4);
	assert_int(r, "mixed/#4/five", 5);
	assert_pos(get(r, "mixed/#4"), 2, 31);
	assert_int_equal(get(r, "multi")->u.arr.len, 2);
	assert_int(r, "multi/#1", 2);
	assert_pos(get(r, "multi/#1"), 6, 3);
	assert_str(r, "nested/#1/#0", "a");
	toml_free(r);
}

static void test_toml_tables(void **state)
{
	struct toml_value *r = parse_ok("top = 1\n"
					"[a.b.c]\n"
					"x = 1\n"
					"[a]\n"
					"y = 2\n"
					"[ \"quoted key\" . 'lit' ]\n"
					"z.w.v = 3\n"
					"[fruit]\n"
					"apple.color = 'red'\n"
					"apple.taste.sweet = true\n"
					"[fruit.apple.texture]\n"
					"smooth = true\n"
					"[inline]\n"
					"point = { x = 1, y.z = 2 }\n"
					"[[products]]\n"
					"name = 'Hammer'\n"
					"[[products]]\n"
					"[[products]]\n"
					"name = 'Nail'\n"
					"[products.dims]\n"
					"w = 1\n"
					"[[products.parts]]\n"
					"p = 1\n"
					"\"\" = 'empty key'\n"
					"1234 = 'numeric'\n"
					"3.14 = 'dotted numeric'\n");
	const struct toml_value *v;
	const struct toml_kv *kv;

	assert_int(r, "top", 1);
	assert_int(r, "a/b/c/x", 1);
	assert_int(r, "a/y", 2);
	assert_pos(get(r, "a"), 4, 1);	   /* defined by [a]: the header's position */
	assert_pos(get(r, "a/b"), 2, 4);   /* implicit: where it was named */
	assert_pos(get(r, "a/b/c"), 2, 1); /* [a.b.c] */
	assert_int(r, "quoted key/lit/z/w/v", 3);
	assert_str(r, "fruit/apple/color", "red");
	assert_true(get(r, "fruit/apple/taste/sweet")->u.boolean);
	assert_true(get(r, "fruit/apple/texture/smooth")->u.boolean);
	assert_int(r, "inline/point/y/z", 2);
	v = get(r, "products");
	assert_int_equal(v->type, TOML_ARRAY);
	assert_int_equal(v->u.arr.len, 3);
	assert_pos(v, 15, 1);
	assert_pos(get(r, "products/#1"), 17, 1);
	assert_int_equal(get(r, "products/#1")->u.tab.len, 0);
	assert_str(r, "products/#2/name", "Nail");
	assert_int(r, "products/#2/dims/w", 1);
	assert_int(r, "products/#2/parts/#0/p", 1);
	kv = toml_table_get_kv(get(r, "products/#2/parts/#0"), "");
	assert_non_null(kv);
	assert_str(r, "products/#2/parts/#0/1234", "numeric");
	assert_str(r, "products/#2/parts/#0/3/14", "dotted numeric");
	/* document order is kept */
	v = get(r, "a");
	assert_string_equal(v->u.tab.items[0].key, "b");
	assert_string_equal(v->u.tab.items[1].key, "y");
	assert_int_equal(v->u.tab.items[1].key_pos.line, 5);
	assert_int_equal(v->u.tab.items[1].key_pos.col, 1);
	toml_free(r);
}

/* Valid corners of the redefinition rules (TOML 1.0.0 spec examples). */
static void test_toml_valid_extensions(void **state)
{
	struct toml_value *r = parse_ok("apple.type = 'fruit'\n"
					"orange.type = 'fruit'\n"
					"apple.skin = 'thin'\n"
					"2001-02-08 = 7\n"
					"[x.y.z.w]\n"
					"[x]\n"
					"[fruit]\n"
					"apple.color = 'red'\n"
					"[[fruit.apple.seeds]]\n"
					"size = 2\n"
					"[[fruit.apple.seeds]]\n"
					"[a.b.c]\n"
					"[a]\n"
					"b.d = 1\n");

	assert_str(r, "apple/skin", "thin");
	assert_str(r, "orange/type", "fruit");
	assert_int(r, "2001-02-08", 7);
	assert_int_equal(get(r, "x/y/z/w")->type, TOML_TABLE);
	assert_pos(get(r, "x"), 6, 1);
	assert_int(r, "fruit/apple/seeds/#0/size", 2);
	assert_int_equal(get(r, "fruit/apple/seeds")->u.arr.len, 2);
	assert_int(r, "a/b/d", 1);
	toml_free(r);
}

static void test_toml_encoding(void **state)
{
	struct toml_value *r;
	const char *keyed = "\"\\u0000a\" = 1\n\"\\u0000b\" = 2\n";

	r = parse_ok("\xEF\xBB\xBF"
		     "a = 1\r\n"
		     "# comment é \xF0\x9F\x98\x80\r\n"
		     "b = \"é\" # after\r\n"
		     "c = 'x'");
	assert_int(r, "a", 1);
	assert_pos(get(r, "a"), 1, 5);
	assert_str(r, "b", "é");
	assert_pos(get(r, "c"), 4, 5);
	toml_free(r);
	r = parse_ok("");
	assert_int_equal(r->u.tab.len, 0);
	toml_free(r);
	/* keys that differ only after a NUL are distinct */
	r = parse_ok(keyed);
	assert_int_equal(r->u.tab.len, 2);
	assert_int_equal(r->u.tab.items[1].keylen, 2);
	assert_memory_equal(r->u.tab.items[1].key, "\0b", 3);
	toml_free(r);
	/* columns count code points, not bytes */
	r = parse_ok("k = 1\nl = 1\nm = [\"é中😀\", 2]\n");
	assert_pos(get(r, "m/#1"), 3, 13);
	toml_free(r);
}

static void test_toml_big_table(void **state)
{
	size_t n = 5000, cap = n * 24, len = 0;
	char *doc = malloc(cap);
	struct toml_value *r;
	char key[32];

	assert_non_null(doc);
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(doc + len, cap - len, "k%zu = %zu\n", i, i);
	assert_ok(toml_parse("t.toml", doc, len, &r, &test_err));
	for (size_t i = 0; i < n; i += 97) {
		snprintf(key, sizeof(key), "k%zu", i);
		assert_int(r, key, (int64_t)i);
	}
	assert_null(toml_table_get(r, "k5000"));
	toml_free(r);
	/* a duplicate far down is still found */
	len += (size_t)snprintf(doc + len, cap - len, "k4321 = 0\n");
	assert_int_equal(toml_parse("t.toml", doc, len, &r, &test_err), -1);
	assert_string_equal(test_err.msg, "t.toml:5001:1: duplicate key \"k4321\"");
	free(doc);
}

struct invalid_case {
	const char *doc;
	const char *msg;
};

static const struct invalid_case invalid_cases[] = {
    /* keys and tables */
    {"a = 1\na = 2\n", "t.toml:2:1: duplicate key \"a\""},
    {"[stages.backend]\nfrom = 'a'\n\nfrom = 'b'\n",
     "t.toml:4:1: duplicate key \"from\" in table [stages.backend]"},
    {"[a]\n[a]\n", "t.toml:2:2: table [a] is defined twice (first at line 1)"},
    {"[a.b]\n[a]\n[a]\n", "t.toml:3:2: table [a] is defined twice (first at line 2)"},
    {"a.b = 1\n[a]\n", "t.toml:2:2: table [a] is already defined by dotted keys"},
    {"[fruit]\napple.taste.sweet = true\n[fruit.apple.taste]\n",
     "t.toml:3:14: table [fruit.apple.taste] is already defined by dotted keys"},
    {"[a.b.c]\nz = 9\n[a]\nb.c.t = 1\n",
     "t.toml:4:3: table [a.b.c] is defined by a table header, dotted keys cannot extend it"},
    {"[a.b.c]\n[a]\nb.d = 1\n[a.b]\n", "t.toml:4:4: table [a.b] is already defined by dotted keys"},
    {"a = 1\n[a]\n", "t.toml:2:2: key 'a' already holds an integer (line 1), it cannot be used as a table"},
    {"a = 1\n[a.b]\n", "t.toml:2:2: key 'a' already holds an integer (line 1), it cannot be used as a table"},
    {"a.b = 1\na.b.c = 2\n",
     "t.toml:2:3: key 'a.b' already holds an integer (line 1), it cannot be used as a table"},
    {"a = {x = 1}\na.y = 2\n", "t.toml:2:1: inline table [a] cannot be extended by dotted keys"},
    {"a = {x = 1}\n[a]\n", "t.toml:2:2: table [a] is already defined as an inline table"},
    {"a = {x = {y = 1}}\n[a.x.z]\n", "t.toml:2:2: inline table [a] cannot be extended by a table header"},
    {"a = {x.y = 1, x = 2}\n", "t.toml:1:15: duplicate key \"x\" in table [a]"},
    {"a = {x = {}, x.y = 2}\n", "t.toml:1:14: inline table [a.x] cannot be extended by dotted keys"},
    {"a = [1]\n[[a]]\n", "t.toml:2:3: cannot append to static array [a] with [[...]]"},
    {"a = []\n[a.b]\n", "t.toml:2:2: key 'a' already holds an array (line 1), it cannot be used as a table"},
    {"[[a]]\n[a]\n", "t.toml:2:2: table [a] is already an array of tables ([[...]])"},
    {"[a]\n[[a]]\n", "t.toml:2:3: table [a] is already a table, it cannot become an array of tables"},
    {"[[a]]\nb = 1\n[[a]]\nb = 1\nb = 2\n", "t.toml:5:1: duplicate key \"b\" in table [a[1]]"},
    {"[[a.b]]\n[a]\n[a.b]\n", "t.toml:3:4: table [a.b] is already an array of tables ([[...]])"},
    {"x = [{a = 1, a = 2}]\n", "t.toml:1:14: duplicate key \"a\" in table [x[0]]"},
    {"\"a b\".c = 1\n\"a b\".c = 2\n", "t.toml:2:7: duplicate key \"c\" in table [\"a b\"]"},
    {"a = 1 b = 2\n", "t.toml:1:7: expected the end of the line after the value, found 'b'"},
    {"a\n= 1\n", "t.toml:1:2: expected '=' after the key, found end of line"},
    {"= 1\n", "t.toml:1:1: expected a key, found '='"},
    {"a. = 1\n", "t.toml:1:4: expected a key, found '='"},
    {"a b = 1\n", "t.toml:1:3: expected '=' after the key, found 'b'"},
    {"\"\"\"k\"\"\" = 1\n", "t.toml:1:1: a key cannot be a multi-line string"},
    {"[a\n", "t.toml:1:3: expected ']' to close the table header, found end of line"},
    {"[[a]\n", "t.toml:1:4: expected ']]' to close the table header, found ']'"},
    {"[[a] ]\n", "t.toml:1:4: expected ']]' to close the table header, found ']'"},
    {"[a] b = 1\n", "t.toml:1:5: expected the end of the line after the table header, found 'b'"},
    {"[]\n", "t.toml:1:2: expected a key, found ']'"},
    {"a = 1 # ok\n# fine\n  # x\nb =\n", "t.toml:4:4: expected a value, found end of line"},
    {"[[tab.arr]]\n[tab]\narr.val1 = 1\n",
     "t.toml:3:1: key 'tab.arr' already holds an array (line 1), it cannot be used as a table"},
    {"[fruit]\napple.color = 'red'\n[[fruit.apple]]\n",
     "t.toml:3:9: table [fruit.apple] is already a table, it cannot become an array of tables"},
    {"[t1]\nt2.t3.v = 0\n[t1.t2.t3]\n", "t.toml:3:8: table [t1.t2.t3] is already defined by dotted keys"},
    {"[product]\ntype.name = 'Nail'\ntype = { edible = false }\n",
     "t.toml:3:1: duplicate key \"type\" in table [product]"},
    {"tbl = { fruit = { apple.color = 'red' }, fruit.apple.texture = { smooth = true } }\n",
     "t.toml:1:42: inline table [tbl.fruit] cannot be extended by dotted keys"},
    /* inline tables */
    {"a = {x = 1,}\n", "t.toml:1:12: trailing comma in an inline table is not allowed"},
    {"a = {x = 1\n}\n",
     "t.toml:1:11: expected ',' or '}' in the inline table, found end of line (inline tables must fit on "
     "one line)"},
    {"a = {\nx = 1}\n", "t.toml:1:6: expected a key, found end of line"},
    {"a = {x = 1 y = 2}\n", "t.toml:1:12: expected ',' or '}' in the inline table, found 'y'"},
    {"a = {,}\n", "t.toml:1:6: expected a key, found ','"},
    /* arrays */
    {"a = [1,,2]\n", "t.toml:1:8: expected a value, found ','"},
    {"a = [,]\n", "t.toml:1:6: expected a value, found ','"},
    {"a = [1 2]\n", "t.toml:1:8: expected ',' or ']' in the array, found '2'"},
    {"a = [1,\n", "t.toml:2:1: expected a value, found end of file"},
    /* strings */
    {"a = \"abc\n", "t.toml:1:5: string has no closing quote on its line"},
    {"a = 'abc\n", "t.toml:1:5: string has no closing quote on its line"},
    {"a = \"\"\"abc\n", "t.toml:1:5: multi-line string has no closing \"\"\""},
    {"a = '''abc''''''\n", "t.toml:1:11: too many quotes (6) at the end of a multi-line string"},
    {"a = \"\\x41\"\n", "t.toml:1:6: invalid escape sequence \\x"},
    {"a = \"\\e\"\n", "t.toml:1:6: invalid escape sequence \\e"},
    {"a = \"\\'\"\n", "t.toml:1:6: invalid escape sequence \\'"},
    {"a = \"\\ \"\n", "t.toml:1:6: invalid escape sequence: backslash followed by a space"},
    {"a = \"\"\"x\\ y\"\"\"\n", "t.toml:1:9: a line-ending backslash must be followed only by blanks"},
    {"a = \"\\u12\"\n", "t.toml:1:6: escape \\u needs 4 hexadecimal digits"},
    {"a = \"\\uD800\"\n", "t.toml:1:6: escape \\uD800 is not a Unicode scalar value"},
    {"a = \"\\U00110000\"\n", "t.toml:1:6: escape \\U00110000 is not a Unicode scalar value"},
    {"a = \"\"\"\\uDFFF\"\"\"\n", "t.toml:1:8: escape \\uDFFF is not a Unicode scalar value"},
    {"a = abc\n", "t.toml:1:5: invalid value 'abc' (strings need quotes)"},
    /* integers */
    {"a = 01\n", "t.toml:1:5: invalid integer '01': leading zeros are not allowed"},
    {"a = -0_1\n", "t.toml:1:5: invalid integer '-0_1': leading zeros are not allowed"},
    {"a = 1__0\n", "t.toml:1:5: invalid integer '1__0'"},
    {"a = _1\n", "t.toml:1:5: invalid value '_1' (strings need quotes)"},
    {"a = 1_\n", "t.toml:1:5: invalid integer '1_'"},
    {"a = 0x_1\n", "t.toml:1:5: invalid integer '0x_1'"},
    {"a = 0X1\n", "t.toml:1:5: invalid integer '0X1': prefixes are lowercase (0x, 0o, 0b)"},
    {"a = +0x1\n", "t.toml:1:5: invalid integer '+0x1': only decimal integers may have a sign"},
    {"a = 0o8\n", "t.toml:1:5: invalid integer '0o8'"},
    {"a = 0b2\n", "t.toml:1:5: invalid integer '0b2'"},
    {"a = 0x\n", "t.toml:1:5: invalid integer '0x'"},
    {"a = 9223372036854775808\n", "t.toml:1:5: integer '9223372036854775808' does not fit in 64 bits"},
    {"a = -9223372036854775809\n", "t.toml:1:5: integer '-9223372036854775809' does not fit in 64 bits"},
    {"a = 0x8000000000000000\n", "t.toml:1:5: integer '0x8000000000000000' does not fit in 64 bits"},
    {"a = ++1\n", "t.toml:1:5: invalid value '++1'"},
    /* floats */
    {"a = 1.\n", "t.toml:1:5: invalid float '1.'"},
    {"a = .1\n", "t.toml:1:5: invalid value '.1'"},
    {"a = 1.e5\n", "t.toml:1:5: invalid float '1.e5'"},
    {"a = 1e\n", "t.toml:1:5: invalid float '1e'"},
    {"a = 1_.2\n", "t.toml:1:5: invalid float '1_.2'"},
    {"a = 1._2\n", "t.toml:1:5: invalid float '1._2'"},
    {"a = 1e_2\n", "t.toml:1:5: invalid float '1e_2'"},
    {"a = 03.1\n", "t.toml:1:5: invalid float '03.1': leading zeros are not allowed"},
    {"a = 1e400\n", "t.toml:1:5: float '1e400' is out of range"},
    {"a = infinity\n", "t.toml:1:5: invalid value 'infinity' (strings need quotes)"},
    {"a = NaN\n", "t.toml:1:5: invalid value 'NaN' (strings need quotes)"},
    {"a = TRUE\n", "t.toml:1:5: invalid value 'TRUE' (strings need quotes)"},
    /* date-times */
    {"a = 2023-02-29\n", "t.toml:1:5: invalid date-time '2023-02-29': day out of range for its month"},
    {"a = 1900-02-29\n", "t.toml:1:5: invalid date-time '1900-02-29': day out of range for its month"},
    {"a = 2023-04-31\n", "t.toml:1:5: invalid date-time '2023-04-31': day out of range for its month"},
    {"a = 2023-13-01\n", "t.toml:1:5: invalid date-time '2023-13-01': month out of range"},
    {"a = 24:00:00\n", "t.toml:1:5: invalid date-time '24:00:00': hour out of range"},
    {"a = 23:60:00\n", "t.toml:1:5: invalid date-time '23:60:00': minute out of range"},
    {"a = 23:59:61\n", "t.toml:1:5: invalid date-time '23:59:61': second out of range"},
    {"a = 07:32\n", "t.toml:1:5: invalid date-time '07:32': expected HH:MM:SS"},
    {"a = 07:32:00Z\n", "t.toml:1:5: invalid date-time '07:32:00Z': unexpected characters at the end"},
    {"a = 1979-05-27T07:32:00+24:00\n",
     "t.toml:1:5: invalid date-time '1979-05-27T07:32:00+24:00': offset out of range"},
    {"a = 1979-05-27T07:32:00.\n",
     "t.toml:1:5: invalid date-time '1979-05-27T07:32:00.': expected digits after the decimal point"},
    {"a = 1979-05-27T\n", "t.toml:1:5: invalid date-time '1979-05-27T': expected HH:MM:SS"},
    {"a = 1979-05-27X07:32:00\n",
     "t.toml:1:5: invalid date-time '1979-05-27X07:32:00': expected T between the date and the time"},
    {"a = 1979-5-27\n", "t.toml:1:5: invalid date-time '1979-5-27': expected YYYY-MM-DD"},
    {"a = 1979-05-27  07:32:00\n", "t.toml:1:17: expected the end of the line after the value, found '0'"},
    /* encoding and control characters */
    {"a = \"\xC3\x28\"\n", "t.toml:1:6: invalid UTF-8 byte 0xc3"},
    {"a = 1 # \xE0\x80\xAF\n", "t.toml:1:9: invalid UTF-8 byte 0xe0"},	  /* overlong */
    {"a = 'x\xED\xA0\x80'\n", "t.toml:1:7: invalid UTF-8 byte 0xed"},	  /* surrogate */
    {"a = 'x\xF4\x90\x80\x80'\n", "t.toml:1:7: invalid UTF-8 byte 0xf4"}, /* > U+10FFFF */
    {"a = 'é\xFF'\n", "t.toml:1:7: invalid UTF-8 byte 0xff"},
    {"a = 'x\xC0\xAF'\n", "t.toml:1:7: invalid UTF-8 byte 0xc0"}, /* overlong '/' */
    {"a = 'x\xF0\x80\x80\xAF'\n", "t.toml:1:7: invalid UTF-8 byte 0xf0"},
    {"a = 'x\xF5\x80\x80\x80'\n", "t.toml:1:7: invalid UTF-8 byte 0xf5"},
    {"a = 'x\xE2\x82'\n", "t.toml:1:7: invalid UTF-8 byte 0xe2"}, /* truncated */
    {"a = 1 # \xE2\x82", "t.toml:1:9: invalid UTF-8 byte 0xe2"},  /* truncated at the end */
    {"a = 1\n\xEF\xBB\xBF"
     "b = 1\n",
     "t.toml:2:1: expected a key, found U+FEFF"},
    {"a = 1\rb = 2\n", "t.toml:1:6: carriage return not followed by a line feed"},
    {"a = \"x\x01\"\n", "t.toml:1:7: control character U+0001 is not allowed"},
    {"a = 'x\x7F'\n", "t.toml:1:7: control character U+007F is not allowed"},
    {"a = 1 # \x0C\n", "t.toml:1:9: control character U+000C is not allowed"},
    {"a = \"\"\"x\ny\x1F\"\"\"\n", "t.toml:2:2: control character U+001F is not allowed"},
    {"k = \"é中\" \"x\"\n", "t.toml:1:10: expected the end of the line after the value, found '\"'"},
};

static void test_toml_invalid_corpus(void **state)
{
	for (size_t i = 0; i < sizeof(invalid_cases) / sizeof(invalid_cases[0]); i++) {
		const struct invalid_case *c = &invalid_cases[i];
		struct ocb_error err = OCB_ERROR_INIT;
		struct toml_value *root = NULL;

		if (toml_parse("t.toml", c->doc, strlen(c->doc), &root, &err) == 0) {
			toml_free(root);
			fail_msg("accepted invalid document %zu:\n%s", i, c->doc);
		}
		assert_null(root);
		assert_int_equal(err.code, OCB_EINVAL);
		if (strcmp(err.msg, c->msg) != 0)
			fail_msg("document %zu:\n%s\nerror:  %s\nwanted: %s", i, c->doc, err.msg, c->msg);
	}
}

static void test_toml_embedded_nul(void **state)
{
	struct ocb_error err = OCB_ERROR_INIT;
	struct toml_value *root = NULL;

	assert_int_equal(toml_parse("t.toml", "a = 1\0", 6, &root, &err), -1);
	assert_string_equal(err.msg, "t.toml:1:6: control character U+0000 is not allowed");
	/* the input need not be NUL-terminated: the length is the end */
	assert_ok(toml_parse("t.toml", "a = 12345", 6, &root, &test_err));
	assert_int(root, "a", 12);
	toml_free(root);
}

static char *repeat(const char *prefix, const char *unit, size_t n, const char *suffix_unit, const char *tail)
{
	size_t cap = strlen(prefix) + n * (strlen(unit) + strlen(suffix_unit)) + strlen(tail) + 1;
	char *s = malloc(cap), *o = s;

	assert_non_null(s);
	o += snprintf(o, cap, "%s", prefix);
	for (size_t i = 0; i < n; i++)
		o += snprintf(o, cap - (size_t)(o - s), "%s", unit);
	o += snprintf(o, cap - (size_t)(o - s), "%s", tail);
	for (size_t i = 0; i < n; i++)
		o += snprintf(o, cap - (size_t)(o - s), "%s", suffix_unit);
	return s;
}

/* [[a]] [[a.a]] [[a.a.a]] ... n lines */
static char *aot_ladder(size_t n)
{
	size_t cap = n * (2 * n + 8), len = 0;
	char *s = malloc(cap);

	assert_non_null(s);
	for (size_t i = 1; i <= n; i++) {
		len += (size_t)snprintf(s + len, cap - len, "[[a");
		for (size_t k = 1; k < i; k++)
			len += (size_t)snprintf(s + len, cap - len, ".a");
		len += (size_t)snprintf(s + len, cap - len, "]]\n");
	}
	return s;
}

static void test_toml_limits(void **state)
{
	struct ocb_error err = OCB_ERROR_INIT;
	struct toml_value *root = NULL;
	char *doc;

	/* 127 nested arrays under the root are fine; 200 are not */
	doc = repeat("a = ", "[", 127, "]", "");
	assert_ok(toml_parse("t.toml", doc, strlen(doc), &root, &test_err));
	toml_free(root);
	free(doc);
	doc = repeat("a = ", "[", 200, "]", "");
	assert_int_equal(toml_parse("t.toml", doc, strlen(doc), &root, &err), -1);
	assert_string_equal(err.msg, "t.toml:1:133: tables and arrays nest deeper than 128 levels");
	free(doc);
	doc = repeat("a = ", "{b = ", 200, "}", "1");
	assert_int_equal(toml_parse("t.toml", doc, strlen(doc), &root, &err), -1);
	assert_non_null(strstr(err.msg, "nest deeper than 128 levels"));
	free(doc);
	doc = repeat("", "a.", 200, "", "b = 1");
	assert_int_equal(toml_parse("t.toml", doc, strlen(doc), &root, &err), -1);
	assert_string_equal(err.msg, "t.toml:1:257: key has more than 128 parts");
	free(doc);
	doc = repeat("[", "a.", 127, "", "b]");
	assert_ok(toml_parse("t.toml", doc, strlen(doc), &root, &test_err));
	toml_free(root);
	free(doc);
	/* each [[...]] level is two: the array and its table */
	doc = aot_ladder(65);
	assert_int_equal(toml_parse("t.toml", doc, strlen(doc), &root, &err), -1);
	assert_string_equal(err.msg, "t.toml:65:1: tables and arrays nest deeper than 128 levels");
	free(doc);
	doc = aot_ladder(64);
	assert_ok(toml_parse("t.toml", doc, strlen(doc), &root, &test_err));
	toml_free(root);
	free(doc);
	/* size bound */
	doc = calloc(1, (16u << 20) + 1);
	assert_non_null(doc);
	memset(doc, '\n', (16u << 20) + 1);
	assert_int_equal(toml_parse("t.toml", doc, (16u << 20) + 1, &root, &err), -1);
	assert_int_equal(err.code, OCB_ELIMIT);
	assert_ok(toml_parse("t.toml", doc, 16u << 20, &root, &test_err));
	toml_free(root);
	free(doc);
}

/* A file of `size` bytes of comment lines. */
static void big_file(const char *path, size_t size)
{
	char *data = malloc(size);

	assert_non_null(data);
	memset(data, '#', size);
	for (size_t i = 99; i < size; i += 100)
		data[i] = '\n';
	testutil_write_file(path, data, size);
	free(data);
}

static void test_toml_parse_file(void **state)
{
	struct ocb_error err = OCB_ERROR_INIT;
	struct toml_value *root = NULL;
	char *dir = testutil_mkdtemp();
	char path[4096];

	snprintf(path, sizeof(path), "%s/recipe.toml", dir);
	testutil_write_file(path, "[image]\nname = 'x'\n", 19);
	assert_ok(toml_parse_file(path, &root, &test_err));
	assert_str(root, "image/name", "x");
	toml_free(root);
	root = NULL;
	testutil_write_file(path, "[image]\nname = 'x'\nname = 'y'\n", 30);
	assert_int_equal(toml_parse_file(path, &root, &err), -1);
	assert_true(strncmp(err.msg, path, strlen(path)) == 0);
	assert_string_equal(err.msg + strlen(path), ":3:1: duplicate key \"name\" in table [image]");
	testutil_write_file(path, "", 0);
	assert_ok(toml_parse_file(path, &root, &test_err));
	assert_int_equal(root->u.tab.len, 0);
	toml_free(root);
	root = NULL;
	big_file(path, (16u << 20) + 1);
	assert_int_equal(toml_parse_file(path, &root, &err), -1);
	assert_int_equal(err.code, OCB_ELIMIT);
	assert_null(root);
	big_file(path, 16u << 20);
	assert_ok(toml_parse_file(path, &root, &test_err));
	toml_free(root);
	root = NULL;
	snprintf(path, sizeof(path), "%s/missing.toml", dir);
	assert_int_equal(toml_parse_file(path, &root, &err), -1);
	assert_int_equal(err.code, OCB_ENOTFOUND);
	assert_null(root);
	testutil_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_toml_integers),
	    cmocka_unit_test(test_toml_floats),
	    cmocka_unit_test(test_toml_booleans_and_types),
	    cmocka_unit_test(test_toml_strings),
	    cmocka_unit_test(test_toml_datetimes),
	    cmocka_unit_test(test_toml_arrays),
	    cmocka_unit_test(test_toml_tables),
	    cmocka_unit_test(test_toml_valid_extensions),
	    cmocka_unit_test(test_toml_encoding),
	    cmocka_unit_test(test_toml_big_table),
	    cmocka_unit_test(test_toml_invalid_corpus),
	    cmocka_unit_test(test_toml_embedded_nul),
	    cmocka_unit_test(test_toml_limits),
	    cmocka_unit_test(test_toml_parse_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
