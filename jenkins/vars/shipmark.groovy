/*
 * shipmark(...): run one shipmark command in a Jenkins pipeline and return its results.
 *
 *   def results = shipmark(command: 'deploy', environment: 'prod', credentialsId: 'releasebits-token')
 *
 * Tokens are bound with withCredentials and read by shipmark from the environment; the
 * shell script is made of constant single-quoted strings and the library's own installer
 * resource, so no value (secret or not) is ever interpolated by Groovy into a command line.
 * Every option travels as a SHIPMARK_WRAP_* variable and `shipmark-wrap` turns them into
 * shipmark's arguments (the rule all the wrappers share: docs/wrappers.md).
 *
 * shipmark (its `shipmark-wrap` command) comes from PATH, or is installed once per build
 * into a private virtualenv in a new directory of WORKSPACE_TMP named at random (its path
 * kept in env.SHIPMARK_BUILD_VENV for the build's later steps; none left by an earlier
 * build is ever used) by the installer all the wrappers share (a library resource,
 * generated from installer/install.sh): dependencies from the hash lock,
 * shipmark itself pinned by DEFAULT_PACKAGE_SHA256 unless `package` names something else.
 * Needs the Credentials Binding and Pipeline Utility Steps (readJSON) plugins. See
 * shipmark.txt for every parameter.
 */
// Pipeline steps run under Jenkins' CPS interpreter, which cannot compile statically.
/* groovylint-disable CompileStatic */
import groovy.transform.Field

@Field final String DEFAULT_PACKAGE = 'shipmark==0.1.0'
// sha256 of DEFAULT_PACKAGE's wheel on the package index, written by the release command.
// Empty until that release exists: the installer then says that shipmark itself is not
// hash-checked (its dependencies always are).
@Field final String DEFAULT_PACKAGE_SHA256 = ''
@Field final String DEFAULT_TOKEN_VARIABLE = 'SHIPMARK_TOKEN'
@Field final String EXIT_MARKER = 'shipmark-exit-status: '
// First line of stdout after a fresh install: the build's virtualenv, kept in env.
@Field final String VENV_MARKER = 'shipmark-venv: '
@Field final String NEWLINE = '\n'
@Field final String COMMA = ', '
@Field final String PACKAGE = 'package'  // a keyword in Groovy: always quoted
@Field final List<String> PARAMETERS = [
    'command', 'environment', 'version', 'status', 'targets', 'hosts', 'name', 'meta', 'args',
    'config', 'failOnError', 'credentialsId', 'tokenVariable', 'credentials', PACKAGE,
]
// The shared installer's shell functions and the hash lock (jenkins/resources/shipmark/,
// copies of installer/ made by scripts/installer_copies.py).
@Field final String INSTALLER_RESOURCE = 'shipmark/install.sh'
@Field final String LOCK_RESOURCE = 'shipmark/runtime-lock.txt'
@Field final String LOCK_FILE = 'shipmark-runtime-lock.txt'  // written under WORKSPACE_TMP

// What `sh` runs: SCRIPT_HEAD, the installer's functions (they only define functions), then
// SCRIPT_BODY. The body finds `shipmark-wrap` on PATH, or installs shipmark once per build
// (into a fresh directory whose path it prints first, for the build's later steps);
// shipmark-wrap builds the command line from SHIPMARK_WRAP_* (see docs/wrappers.md) and
// runs it with --json; the exit status goes on the last line of stdout, so that the results
// can be read even when shipmark fails. Every value reaches the script as an environment
// variable: the ${...} below are shell expansions in single-quoted strings, Groovy never
// interpolates them.
@Field final String SCRIPT_HEAD = '''\
#!/bin/sh
set -eu
'''

// groovylint-disable-next-line GStringExpressionWithinString
@Field final String SCRIPT_BODY = '''\
# The per-agent cache of wheels (pip only): each level must be this user's and private,
# else the install runs without it (shipmark_private_dir says why). One directory per
# executor: builds running at the same time on an agent never empty each other's cache.
shipmark_agent_wheels() {
  if [ -n "${SHIPMARK_CACHE_DIR:-}" ]; then
    cache=$SHIPMARK_CACHE_DIR
  elif [ -n "${HOME:-}" ]; then
    cache="$HOME/.cache/shipmark"
  else
    return 1
  fi
  shipmark_private_dir "$cache" && shipmark_private_dir "$cache/wheels" || return 1
  key=$(shipmark_cache_key python3 "$SHIPMARK_INSTALL_LOCK" "$SHIPMARK_INSTALL_SOURCE") || return 1
  printf '%s\\n' "$cache/wheels/$key${EXECUTOR_NUMBER:+-executor$EXECUTOR_NUMBER}"
}

# This build's virtualenv from an earlier step: SHIPMARK_BUILD_VENV, the path a first step
# printed and the Groovy side kept for this build only. Used only if it is still a private
# directory of this user with this build's stamp and an interpreter.
shipmark_build_venv() {
  [ -n "${SHIPMARK_BUILD_VENV:-}" ] && [ -d "$SHIPMARK_BUILD_VENV" ] &&
    shipmark_private_dir "$SHIPMARK_BUILD_VENV" &&
    [ "$(cat "$SHIPMARK_BUILD_VENV/.shipmark-build" 2>/dev/null || true)" = "$1" ] &&
    [ -x "$(shipmark_venv_python "$SHIPMARK_BUILD_VENV/venv")" ]
}

# Virtualenvs earlier builds left in SHIPMARK_INSTALL_TMP (WORKSPACE_TMP outlives builds):
# never used, removed. Those stamped for this build stay (parallel branches may use them);
# so do unstamped ones (maybe still installing).
shipmark_remove_stale() {
  rm -rf "$SHIPMARK_INSTALL_TMP/shipmark-venv"  # the fixed name older versions used
  [ -n "${BUILD_TAG:-}" ] || return 0
  for old in "$SHIPMARK_INSTALL_TMP"/shipmark-venv.*; do
    [ -f "$old/.shipmark-build" ] || continue
    case "$(cat "$old/.shipmark-build" 2>/dev/null || true)" in
      "$BUILD_TAG|"*) ;;
      *) rm -rf "$old" ;;
    esac
  done
}

if command -v shipmark-wrap >/dev/null 2>&1; then
  set -- shipmark-wrap
else
  if ! command -v python3 >/dev/null 2>&1; then
    shipmark_log "no python3 on this agent's PATH: install Python 3.9+ (or shipmark itself)"
    exit 127
  fi
  # Installed once per build into a directory named at random (mktemp, mode 0700): an
  # earlier build, which can write WORKSPACE_TMP and guess BUILD_TAG, cannot know the name.
  # Its path goes on the first line of stdout; the Groovy side passes it to later steps.
  stamp="${BUILD_TAG:-}|$SHIPMARK_INSTALL_SOURCE"
  if shipmark_build_venv "$stamp"; then
    venv_dir=$SHIPMARK_BUILD_VENV
  else
    shipmark_remove_stale
    venv_dir=$(mktemp -d "$SHIPMARK_INSTALL_TMP/shipmark-venv.XXXXXXXX")
    wheels=$(umask 077 && shipmark_agent_wheels) || wheels=
    if ! shipmark_install_env python3 "$venv_dir/venv" "$SHIPMARK_INSTALL_LOCK" \\
      "$SHIPMARK_INSTALL_SOURCE" "$wheels" >&2; then
      shipmark_log "could not install shipmark into $venv_dir/venv"
      rm -rf "$venv_dir"
      exit 1
    fi
    printf '%s' "$stamp" >"$venv_dir/.shipmark-build"
    printf '%s%s\\n' 'shipmark-venv: ' "$venv_dir"
  fi
  SHIPMARK_VENV_PYTHON=$(shipmark_venv_python "$venv_dir/venv")
  set -- "$SHIPMARK_VENV_PYTHON" -I -m shipmark.wrap
fi
status=0
"$@" --json || status=$?
printf '\\n%s%s\\n' 'shipmark-exit-status: ' "$status"
'''

/** Runs `shipmark <command> ... --json`; returns the results (a list of maps). */
List call(Map args = [:]) {
    String problem = invalidParameters(args)
    if (problem) {
        error("shipmark: ${problem}")
    }
    Map opts = [command: 'deploy'] + args
    // WORKSPACE_TMP: the build's private scratch directory next to the workspace.
    String workDir = env.WORKSPACE_TMP ?: pwd(tmp: true)
    writeFile(file: "${workDir}/${LOCK_FILE}", text: libraryResource(LOCK_RESOURCE))
    String script = SCRIPT_HEAD + libraryResource(INSTALLER_RESOURCE) + SCRIPT_BODY
    String stdout = ''
    withEnv(environment(opts) + installEnvironment(opts, workDir, env.SHIPMARK_BUILD_VENV ?: '')) {
        withCredentials(credentialBindings(opts)) {
            stdout = sh(script: script, returnStdout: true, label: "shipmark ${opts.command}")
        }
    }
    Map outcome = parseOutput(stdout)
    if (outcome.venv) {
        // Kept for the rest of this build only (a later build starts without it).
        env.SHIPMARK_BUILD_VENV = outcome.venv
    }
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

/**
 * Where and what to install: the default package pinned by its digest (`release:`), or the
 * user's own `package` (`user:`, which the installer logs as bypassing the hash lock); the
 * virtualenv an earlier step of this build installed ('' before the first).
 */
@NonCPS
List<String> installEnvironment(Map opts, String workDir, String buildVenv) {
    String wanted = opts.get(PACKAGE) ?: DEFAULT_PACKAGE
    String source = wanted == DEFAULT_PACKAGE ?
        "release:${DEFAULT_PACKAGE}:${DEFAULT_PACKAGE_SHA256}" : "user:${wanted}"
    List<String> vars = [
        "SHIPMARK_INSTALL_SOURCE=${source}",
        "SHIPMARK_INSTALL_TMP=${workDir}",
        "SHIPMARK_BUILD_VENV=${buildVenv}",
        "SHIPMARK_INSTALL_LOCK=${workDir}/${LOCK_FILE}",
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

/**
 * Splits the script's stdout into the --json text, shipmark's exit status and the path of
 * a virtualenv just installed (only ever the first line: shipmark's output comes after it).
 */
@NonCPS
Map parseOutput(String stdout) {
    List<String> kept = []
    Integer status = null
    String venv = null
    boolean first = true
    stdout.split(NEWLINE).each { line ->
        if (first && line.startsWith(VENV_MARKER)) {
            venv = line.substring(VENV_MARKER.length())
        } else if (line.startsWith(EXIT_MARKER)) {
            status = Integer.parseInt(line.substring(EXIT_MARKER.length()).trim())
        } else {
            kept << line
        }
        first = false
    }
    return [json: kept.join(NEWLINE).trim(), status: status == null ? 1 : status, venv: venv]
}
