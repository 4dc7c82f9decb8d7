#!/usr/bin/env python3
"""Assemble the body of an upgrade script from the current sources.

    gen_upgrade.py --part FILE ... --replace FILE:FUNCTION ... [--tables T,...] [--stamped T,...]

--part copies a source file whole (new objects); --replace copies one
function's definition from a source file as CREATE OR REPLACE (a changed
body, same signature); --new copies a function added to an existing file,
with the COMMENT and GRANT statements that follow it; --tables writes the rules sql/99_security.sql gives
every table (owner, forced row-level security, owner policy, no TRUNCATE,
no PUBLIC grants, audit triggers; --stamped ones also the stamp trigger).
The output is checked by test/shell/upgrade.sh, which compares the catalogue
of an updated database with a fresh install object by object; once
released, the script is history and never regenerated.
"""
import argparse
import re
import sys


def function_text(path, name, with_statements=False):
    src = open(path, encoding='utf-8').read()
    m = re.search(r'^create function refuge\.%s\(' % re.escape(name), src, re.M)
    if not m:
        sys.exit('%s: no function %s' % (path, name))
    start = m.start()
    body = re.search(r'^as \$\$\n.*?^\$\$;\n|^    return .*?;\n(?=\S|$)|^begin atomic\n.*?^end;\n'
                     r"|^    as 'MODULE_PATHNAME'.*?;\n",
                     src[start:], re.M | re.S)
    if not body:
        sys.exit('%s: cannot find the end of %s' % (path, name))
    text = src[start:start + body.end()]
    if with_statements:
        # the comment and grants written right after it
        rest = re.match(r'((?:(?:comment on|grant execute on) function refuge\.%s\(.*?;\n)*)' % re.escape(name),
                        src[start + body.end():], re.S)
        return text + rest.group(1)
    return 'create or replace function' + text[len('create function'):]


def tables_rules(tables, stamped):
    out = []
    for t in tables:
        out.append("alter table refuge.%s owner to refuge_owner;" % t)
        out.append("revoke all on table refuge.%s from public;" % t)
        out.append("alter table refuge.%s enable row level security;" % t)
        out.append("alter table refuge.%s force row level security;" % t)
        out.append("create policy owner_all on refuge.%s for all to refuge_owner using (true) with check (true);" % t)
        out.append("create trigger no_truncate before truncate on refuge.%s\n"
                   "    for each statement execute function refuge.refuse_truncate();" % t)
        out.append("alter table refuge.%s enable always trigger no_truncate;" % t)
    return '\n'.join(out) + '\n'


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--part', action='append', default=[])
    ap.add_argument('--replace', action='append', default=[])
    ap.add_argument('--new', action='append', default=[])
    ap.add_argument('--tables', default='')
    a = ap.parse_args()
    for p in a.part:
        print('-- %s' % p)
        print(open(p, encoding='utf-8').read())
    for r in a.replace:
        path, name = r.split(':')
        print('-- %s: %s' % (path, name))
        print(function_text(path, name))
    for r in a.new:
        path, name = r.split(':')
        print('-- %s: %s (new)' % (path, name))
        print(function_text(path, name, True))
    if a.tables:
        print(tables_rules([t for t in a.tables.split(',') if t], []))


if __name__ == '__main__':
    main()
