/*
 * shipmark(...): run one shipmark command in a Jenkins pipeline and return its results.
 *
 *   def results = shipmark(command: 'deploy', environment: 'prod', credentialsId: 'releasebits-token')
 *
 * Tokens are bound with withCredentials and read by shipmark from the environment; the
 * shell script below is a constant single-quoted string, so no value (secret or not) is
 * ever interpolated by Groovy into a command line. Every option travels as a SHIPMARK_WRAP_*
 * variable and `shipmark-wrap` turns them into shipmark's arguments (the rule all the
 * wrappers share: docs/wrappers.md).
 *
 * shipmark (its `shipmark-wrap` command) comes from PATH, or is installed once per build from `package` (a pip
 * requirement) into a virtualenv under WORKSPACE_TMP. Needs the Credentials Binding and
 * Pipeline Utility Steps (readJSON) plugins. See shipmark.txt for every parameter.
 */
// Pipeline steps run under Jenkins' CPS interpreter, which cannot compile statically.
/* groovylint-disable CompileStatic */
import groovy.transform.Field

@Field final String DEFAULT_PACKAGE = 'shipmark==0.1.0'
@Field final String DEFAULT_PACKAGE_SHA256 = ''
@Field final String DEFAULT_TOKEN_VARIABLE = 'SHIPMARK_TOKEN'
@Field final String EXIT_MARKER = 'shipmark-exit-status: '
@Field final String NEWLINE = '\n'
@Field final String COMMA = ', '
@Field final String PACKAGE = 'package'  // a keyword in Groovy: always quoted
@Field final List<String> PARAMETERS = [
    'command', 'environment', 'version', 'status', 'targets', 'hosts', 'name', 'meta', 'args',
    'config', 'failOnError', 'credentialsId', 'tokenVariable', 'credentials', PACKAGE,
]

// The ${...} in the two shell fragments below are shell expansions: the strings are
// single-quoted on purpose, Groovy never interpolates them.

// The only place the steps install shipmark: a shell function that finds `shipmark-wrap` on
// PATH, or installs `package` once per build into a virtualenv under WORKSPACE_TMP.
// groovylint-disable-next-line GStringExpressionWithinString
@Field final String INSTALL = '''\
shipmark_install() {
  if command -v shipmark-wrap >/dev/null 2>&1; then
    shipmark_wrap=shipmark-wrap
    return 0
  fi
  venv="${WORKSPACE_TMP:-${WORKSPACE:-$PWD}/.shipmark}/shipmark-venv"
  stamp="${BUILD_TAG:-}|${SHIPMARK_PACKAGE}"
  if [ ! -x "$venv/bin/shipmark-wrap" ] || [ "$(cat "$venv/.shipmark-build" 2>/dev/null || true)" != "$stamp" ]; then
    rm -rf "$venv"
    # A virtualenv without ensurepip (seconds saved per build), filled by uv when the agent
    # has it (well under a second from a wheel), else by the agent's pip when it can install
    # into another environment (pip >= 22.3: --python), else the usual way.
    python3 -m venv --without-pip "$venv"
    if command -v uv >/dev/null 2>&1; then
      echo "shipmark: installing $SHIPMARK_PACKAGE into $venv with uv" >&2
      # uv reads UV_* settings only: hand it pip's index (a mirror) unless uv has its own.
      set -- --quiet --python "$venv/bin/python"
      if [ -n "${PIP_INDEX_URL:-}" ] && [ -z "${UV_INDEX_URL:-}${UV_DEFAULT_INDEX:-}" ]; then
        set -- "$@" --index-url "$PIP_INDEX_URL"
      fi
      uv pip install "$@" "$SHIPMARK_PACKAGE" >&2
    elif python3 -m pip --python "$venv/bin/python" --version >/dev/null 2>&1; then
      echo "shipmark: installing $SHIPMARK_PACKAGE into $venv with pip" >&2
      python3 -m pip --python "$venv/bin/python" install --quiet --disable-pip-version-check --no-input \\
        "$SHIPMARK_PACKAGE" >&2
    else
      echo "shipmark: installing $SHIPMARK_PACKAGE into $venv with pip" >&2
      rm -rf "$venv"
      python3 -m venv "$venv"
      "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input "$SHIPMARK_PACKAGE" >&2
    fi
    printf '%s' "$stamp" >"$venv/.shipmark-build"
  fi
  shipmark_wrap="$venv/bin/shipmark-wrap"
}
'''

// What `sh` runs: install, then shipmark-wrap builds the command line from SHIPMARK_WRAP_*
// (see docs/wrappers.md) and runs it with --json; the exit status goes on the last line of
// stdout, so that the results can be read even when shipmark fails.
// groovylint-disable-next-line GStringExpressionWithinString
@Field final String SCRIPT = '''\
#!/bin/sh
set -eu
''' + INSTALL + '''\
shipmark_install
status=0
"$shipmark_wrap" --json || status=$?
printf '\\n%s%s\\n' 'shipmark-exit-status: ' "$status"
'''

/** Runs `shipmark <command> ... --json`; returns the results (a list of maps). */
List call(Map args = [:]) {
    String problem = invalidParameters(args)
    if (problem) {
        error("shipmark: ${problem}")
    }
    Map opts = [command: 'deploy'] + args
    String stdout = ''
    withEnv(environment(opts)) {
        withCredentials(credentialBindings(opts)) {
            stdout = sh(script: SCRIPT, returnStdout: true, label: "shipmark ${opts.command}")
        }
    }
    Map outcome = parseOutput(stdout)
    List results = outcome.json ? readJSON(text: outcome.json) : []
    if (outcome.status != 0) {
        error("shipmark ${opts.command} failed with exit status ${outcome.status}")
    }
    return results
}

/*
 * The helpers below stay within the script-security sandbox's default whitelist (a library
 * loaded with the `library` step runs sandboxed): `instanceof` rather than `in SomeClass`,
 * String.split rather than readLines, Integer.parseInt rather than `as Integer`.
 */

/** Why the parameters cannot be used, or null when they can. */
@NonCPS
String invalidParameters(Map args) {
    List unknown = args.keySet().findAll { key -> !PARAMETERS.contains(key) }.toList()
    if (unknown) {
        return "unknown parameter(s) ${unknown.join(COMMA)}; valid: ${PARAMETERS.join(COMMA)}"
    }
    if (args.command != null && !(args.command ==~ /[a-z]+( [a-z]+)*/)) {
        return "command must be subcommand words such as 'deploy' or 'deployment start', not '${args.command}'"
    }
    Object offending = args.keySet().find { key ->
        [args[key]].flatten().any { value -> value != null && multiLine(value.toString()) }
    }
    return offending ? "${offending} must not contain line breaks" : null
}

/** The withEnv list that carries every option to shipmark-wrap, set even when empty. */
@NonCPS
List<String> environment(Map opts) {
    List<String> vars = [
        "SHIPMARK_WRAP_COMMAND=${opts.command}",
        "SHIPMARK_PACKAGE=${opts.get(PACKAGE) ?: DEFAULT_PACKAGE}",
        "SHIPMARK_WRAP_TARGETS=${words(opts.targets).join(NEWLINE)}",
        "SHIPMARK_WRAP_HOSTS=${words(opts.hosts).join(NEWLINE)}",
        "SHIPMARK_WRAP_META=${metaPairs(opts.meta).join(NEWLINE)}",
        "SHIPMARK_WRAP_ARGV=${argvLines(opts.args)}",
        "SHIPMARK_WRAP_ARGS=${argsText(opts.args)}",
        "SHIPMARK_WRAP_STATUS=${opts.status ?: ''}",
        "SHIPMARK_WRAP_NAME=${opts.name ?: ''}",
        "SHIPMARK_WRAP_ENVIRONMENT=${opts.environment ?: ''}",
        "SHIPMARK_WRAP_VERSION=${opts.version ?: ''}",
        "SHIPMARK_WRAP_CONFIG=${opts.config ?: ''}",
        "SHIPMARK_WRAP_FAIL_ON_ERROR=${opts.failOnError ? 'true' : 'false'}",
    ]
    return vars*.toString()
}

/** Secret-text bindings: credentialsId -> tokenVariable, plus the credentials map. */
List credentialBindings(Map opts) {
    Map wanted = [:]
    if (opts.credentialsId) {
        wanted[(opts.tokenVariable ?: DEFAULT_TOKEN_VARIABLE).toString()] = opts.credentialsId.toString()
    }
    (opts.credentials ?: [:]).each { variable, id -> wanted[variable.toString()] = id.toString() }
    List bindings = []
    wanted.each { variable, id -> bindings << string(credentialsId: id, variable: variable) }
    return bindings
}

@NonCPS
boolean multiLine(String text) {
    return text.contains(NEWLINE) || text.contains('\r')
}

/** null -> [], a collection -> its items as strings, anything else -> [it as a string]. */
@NonCPS
List<String> strings(Object value) {
    if (value == null) {
        return []
    }
    List items = isList(value) ? value.toList() : [value]
    return items*.toString()
}

/** args given as a list: one argument per item, as it is, each ended by a line break ('' survives). */
@NonCPS
String argvLines(Object args) {
    return isList(args) ? strings(args).collect { item -> item + NEWLINE }.join('') : ''
}

/** args given as a string: shipmark-wrap splits it like a shell splits words. */
@NonCPS
String argsText(Object args) {
    return args == null || isList(args) ? '' : args.toString()
}

@NonCPS
boolean isList(Object value) {
    // groovylint-disable-next-line Instanceof
    return value instanceof Collection
}

/** Items of a list, or of a string separated by commas or whitespace. */
@NonCPS
List<String> words(Object value) {
    List<String> out = []
    strings(value).each { text ->
        text.split(/[,\s]+/).each { word ->
            if (word) { out << word }
        }
    }
    return out
}

/** meta: a [key: value] map or a list of 'KEY=VALUE' strings. */
@NonCPS
List<String> metaPairs(Object meta) {
    // groovylint-disable-next-line Instanceof
    if (meta instanceof Map) {
        return meta.collect { key, value -> "${key}=${value}".toString() }
    }
    return strings(meta)
}

/** Splits the script's stdout into the --json text and shipmark's exit status. */
@NonCPS
Map parseOutput(String stdout) {
    List<String> kept = []
    Integer status = null
    stdout.split(NEWLINE).each { line ->
        if (line.startsWith(EXIT_MARKER)) {
            status = Integer.parseInt(line.substring(EXIT_MARKER.length()).trim())
        } else {
            kept << line
        }
    }
    return [json: kept.join(NEWLINE).trim(), status: status == null ? 1 : status]
}
