"""Run ClickHouse SQL files statement by statement and stop at the first error.

By default the statements run on chdb, a current ClickHouse engine in this
process, inside one throwaway session, so files can build on each other (for
example migrations in order). With --http URL they run on a ClickHouse server
instead (the local 18.16 one), through one HTTP session: the same files must
pass on both.

    .tether/venv/bin/python infra/chdb/run_sql.py [--http URL] PATH...

PATH is a .sql file or a directory (its *.sql files, sorted by name).
Statements end with ';' at the end of a line; lines starting with '--' are
comments. A ';' at a line end inside a string literal would split a statement:
keep such literals off line ends.

Prints the engine's version, then `ok <file>:<n>` per statement (followed by
its result rows, tab-separated, when it returns any). On failure prints the
file, the statement and the engine's error, and exits 1.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Statement:
    file: Path
    number: int  # 1-based within its file
    line: int  # line where it starts
    sql: str


def split_statements(path: Path) -> list[Statement]:
    statements: list[Statement] = []
    lines: list[str] = []
    start = 0
    for lineno, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):
        if line.lstrip().startswith("--"):
            continue
        if not lines and not line.strip():
            continue
        if not lines:
            start = lineno
        lines.append(line)
        if line.rstrip().endswith(";"):
            sql = "\n".join(lines).rstrip()[:-1].strip()
            if sql:
                statements.append(Statement(path, len(statements) + 1, start, sql))
            lines = []
    tail = "\n".join(lines).strip()
    if tail:  # a last statement without its ';'
        statements.append(Statement(path, len(statements) + 1, start, tail))
    return statements


def sql_files(args: list[str]) -> list[Path]:
    files: list[Path] = []
    for arg in args:
        path = Path(arg)
        if path.is_dir():
            files.extend(sorted(path.glob("*.sql")))
        elif path.is_file():
            files.append(path)
        else:
            sys.exit(f"run_sql: no such file or directory: {arg}")
    if not files:
        sys.exit("run_sql: no .sql files given")
    return files


class EngineError(Exception):
    pass


class ChdbEngine:
    """A current engine in process; nothing outlives the run."""

    def __init__(self) -> None:
        from chdb import session  # imported here so --http works without chdb

        self._dir = tempfile.TemporaryDirectory(prefix="tether-chdb-")
        self._session = session.Session(self._dir.name)

    def name(self) -> str:
        return f"chdb {self.run('SELECT version()').strip()}"

    def run(self, sql: str) -> str:
        try:
            return str(self._session.query(sql, "TSV"))
        except Exception as exc:  # chdb raises ChdbError (RuntimeError in older releases)
            raise EngineError(str(exc).strip()) from exc

    def close(self) -> None:
        self._session.close()
        self._dir.cleanup()


class HttpEngine:
    """A ClickHouse server over HTTP; one session_id keeps SETs and temporary tables."""

    def __init__(self, url: str) -> None:
        self._url = url.rstrip("/") + "/?" + urllib.parse.urlencode({"session_id": f"run_sql_{uuid.uuid4().hex}"})
        self._base = url

    def name(self) -> str:
        return f"ClickHouse {self.run('SELECT version()').strip()} at {self._base}"

    def run(self, sql: str) -> str:
        request = urllib.request.Request(self._url, data=sql.encode("utf-8"), method="POST")
        try:
            with urllib.request.urlopen(request, timeout=300) as response:
                return response.read().decode("utf-8")
        except urllib.error.HTTPError as exc:
            raise EngineError(exc.read().decode("utf-8", "replace").strip()) from exc
        except urllib.error.URLError as exc:
            raise EngineError(f"cannot reach {self._base}: {exc.reason}") from exc

    def close(self) -> None:
        pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--http", metavar="URL", help="run on a ClickHouse server over HTTP instead of chdb")
    parser.add_argument("paths", nargs="+", metavar="PATH", help=".sql file or directory of .sql files")
    args = parser.parse_args()

    files = sql_files(args.paths)
    engine = HttpEngine(args.http) if args.http else ChdbEngine()
    try:
        try:
            print(f"engine: {engine.name()}", flush=True)
        except EngineError as exc:
            print(f"run_sql: engine does not answer: {exc}", file=sys.stderr)
            return 1
        for path in files:
            for stmt in split_statements(path):
                try:
                    result = engine.run(stmt.sql)
                except EngineError as exc:
                    print(f"FAILED {stmt.file}:{stmt.number} (line {stmt.line})", file=sys.stderr)
                    print(stmt.sql, file=sys.stderr)
                    print(f"error: {exc}", file=sys.stderr)
                    return 1
                print(f"ok {stmt.file}:{stmt.number}")
                for row in result.splitlines():
                    print(f"    {row}")
                sys.stdout.flush()
    finally:
        engine.close()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # piped into head & co.: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
