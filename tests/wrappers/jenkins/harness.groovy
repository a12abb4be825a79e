/*
 * A small Jenkins stand-in for the shipmark shared-library steps (jenkins/vars/*.groovy).
 *
 *   groovy harness.groovy unit      pipeline steps stubbed: exact sh script, env, bindings
 *   groovy harness.groovy exec      sh really runs the step's script; `shipmark-wrap` on PATH
 *                                   runs the real rule with a recorder (RECORDER_DIR) in place
 *                                   of shipmark, capturing argv and env
 *   groovy harness.groovy quoting   sh really runs the real shipmark-wrap (on PATH): args as
 *                                   a string (QUOTED_ARGS) and as a list
 *   groovy harness.groovy install   sh really runs; PATH has no shipmark, so the step installs
 *                                   PACKAGE (or the default package) into WORKSPACE_TMP from
 *                                   EXPECTED_SOURCE and talks to RB_URL
 *   groovy harness.groovy guard     sh really runs shipmarkDeploy around a block running
 *                                   ./deploy.sh; prints the outcome and the build description
 *
 * Stubbed steps: sh, withEnv, withCredentials, string, readJSON, error, echo, pwd, writeFile,
 * libraryResource (reads the library's resources/ as Jenkins does); currentBuild. Prints one
 * line per scenario and a closing "N passed, M failed" line; exits 1 on any failure.
 */
import groovy.json.JsonSlurper

final File LIBRARY = new File(System.getenv('SHIPMARK_JENKINS_LIBRARY') ?: 'jenkins')
final String SECRET = 'harness-token-8f3a1c'

/** What the error step throws (Jenkins: hudson.AbortException). */
class StepError extends RuntimeException {
    StepError(String message) { super(message) }
}

/** The pipeline stand-in: steps as closures in a shared binding, calls recorded. */
class FakePipeline {
    Binding binding = new Binding()
    List<Map> shCalls = []
    List<String> log = []
    List<List<String>> envStack = []
    List bindingsSeen = []
    Map<String, String> credentials = [:]
    Map<String, String> baseEnv = [:]
    List<String> cannedStdout = []
    boolean execute = false
    Map<String, Script> vars = [:]
    List<Map> libraryCalls = []
    List<Closure> pendingSteps = []
    List<Map> writes = []
    File library

    FakePipeline(File library, ClassLoader loader) {
        this.library = library
        def imports = new org.codehaus.groovy.control.customizers.ImportCustomizer()
        imports.addImports('com.cloudbees.groovy.cps.NonCPS')
        def config = new org.codehaus.groovy.control.CompilerConfiguration()
        config.addCompilationCustomizers(imports)
        GroovyShell shell = new GroovyShell(loader, binding, config)

        // One map per pipeline (one build): `env.X = value` in a step persists for the later
        // steps of the same FakePipeline, as a Pipeline's env does for the rest of a build,
        // and reaches real sh runs (runSh puts baseEnv into the process environment).
        binding.setVariable('env', baseEnv)
        binding.setVariable('currentBuild', [description: null])
        binding.setVariable('echo') { String text -> log << "echo: ${text}".toString() }
        binding.setVariable('error') { String text -> throw new StepError(text) }
        binding.setVariable('string') { Map m -> [$class: 'StringBinding'] + m }
        binding.setVariable('readJSON') { Map m -> new JsonSlurper().parseText(m.text as String) }
        binding.setVariable('withEnv') { List<String> vars, Closure body ->
            envStack << vars.collect { it.toString() }
            try { body() } finally { envStack.remove(envStack.size() - 1) }
        }
        binding.setVariable('withCredentials') { List bindings, Closure body ->
            bindingsSeen << bindings
            envStack << bindings.collect { b -> "${b.variable}=${credentials[b.credentialsId]}".toString() }
            try { body() } finally { envStack.remove(envStack.size() - 1) }
        }
        binding.setVariable('sh') { Object m -> runSh(m instanceof Map ? m : [script: m.toString()]) }
        binding.setVariable('libraryResource') { Object m -> resource(m instanceof Map ? m.resource : m) }
        binding.setVariable('writeFile') { Map m -> writeFile(m) }
        binding.setVariable('pwd') { Map m = [:] -> m.tmp ? "${workspace()}@tmp".toString() : workspace() }
        // Just enough declarative Pipeline for the docs' Jenkinsfile.
        binding.setVariable('library') { Map m -> libraryCalls << m }
        binding.setVariable('modernSCM') { Map m -> [$class: 'SCMSourceRetriever'] + m }
        binding.setVariable('any', 'any')
        binding.setVariable('agent') { Object label -> log << "agent: ${label}".toString() }
        binding.setVariable('pipeline') { Closure body -> body() }
        binding.setVariable('stages') { Closure body -> body() }
        binding.setVariable('stage') { String name, Closure body ->
            log << "stage: ${name}".toString()
            pendingSteps = []
            boolean wanted = true
            binding.setVariable('when') { Closure condition -> wanted = wanted && condition() }
            body()
            if (wanted) { pendingSteps.each { it() } } else { log << "skipped: ${name}".toString() }
        }
        binding.setVariable('steps') { Closure body -> pendingSteps << body }
        binding.setVariable('script') { Closure body -> body() }
        binding.setVariable('buildingTag') { -> baseEnv.TAG_NAME != null }
        new File(library, 'vars').listFiles().findAll { it.name.endsWith('.groovy') }.sort().each { file ->
            Script script = shell.parse(file)
            String name = file.name - '.groovy'
            vars[name] = script
            binding.setVariable(name) { Object[] args -> script.invokeMethod('call', args) }
        }
    }

    Map<String, String> currentEnv() {
        Map<String, String> env = [:]
        envStack.flatten().each { String entry ->
            int eq = entry.indexOf('=')
            env[entry.substring(0, eq)] = entry.substring(eq + 1)
        }
        return env
    }

    String workspace() {
        return baseEnv.WORKSPACE ?: '/harness/workspace'
    }

    /** libraryResource: a file under the library's resources/, as text; a missing one is an error. */
    String resource(Object name) {
        File file = new File(new File(library, 'resources'), name.toString())
        if (!file.isFile()) {
            throw new StepError("No such library resource ${name} could be found.")
        }
        return file.getText('UTF-8')
    }

    /** writeFile: relative to the workspace, parent directories created (as FilePath.write does). */
    void writeFile(Map m) {
        writes << [file: m.file.toString(), text: m.text.toString()]
        if (execute) {
            File file = new File(m.file.toString())
            if (!file.absolute) {
                file = new File(workspace(), m.file.toString())
            }
            file.parentFile.mkdirs()
            file.setText(m.text.toString(), 'UTF-8')
        }
    }

    Object runSh(Map m) {
        Map call = [script: m.script, label: m.label, returnStdout: m.returnStdout, env: currentEnv()]
        shCalls << call
        log << "sh: ${m.label}".toString()
        if (!execute) {
            return cannedStdout ? cannedStdout.remove(0) : '[]\nshipmark-exit-status: 0\n'
        }
        File scriptFile = File.createTempFile('harness-sh', '.sh')
        scriptFile.text = m.script
        ProcessBuilder pb = new ProcessBuilder('/bin/sh', scriptFile.path)
        pb.environment().putAll(baseEnv)
        pb.environment().putAll(call.env)
        pb.directory(new File(baseEnv.WORKSPACE))
        pb.redirectError(ProcessBuilder.Redirect.INHERIT)
        Process proc = pb.start()
        String out = proc.inputStream.getText('UTF-8')
        int code = proc.waitFor()
        scriptFile.delete()
        call.stdout = out
        if (code != 0) {
            throw new StepError("script returned exit code ${code}")
        }
        return out
    }

    Object runJenkinsfile(File jenkinsfile) {
        return new GroovyShell(binding).evaluate(jenkinsfile)
    }

    Object step(String name, Object... args) {
        return binding.getVariable(name).call(*args)
    }
}

// ---------------------------------------------------------------------------------------
GroovyClassLoader loader = new GroovyClassLoader(this.class.classLoader)
loader.parseClass('''
package com.cloudbees.groovy.cps
import java.lang.annotation.*
@Retention(RetentionPolicy.RUNTIME) @Target(ElementType.METHOD) @interface NonCPS {}
''')
Class interrupted = loader.parseClass('''
package org.jenkinsci.plugins.workflow.steps
class FlowInterruptedException extends InterruptedException {}
''')

int passed = 0
int failed = 0
def scenario = { String title, Closure body ->
    try {
        body()
        passed++
        println "PASS ${title}"
    } catch (Throwable t) {
        failed++
        println "FAIL ${title}\n${t}"
    }
}

def pipeline = { boolean execute ->
    FakePipeline p = new FakePipeline(LIBRARY, loader)
    p.credentials['rb-token'] = SECRET
    p.execute = execute
    return p
}

Object expectThrows = { Class type, Closure body ->
    try {
        body()
    } catch (Throwable t) {
        assert type.isInstance(t): "expected ${type.name}, got ${t}"
        return t
    }
    throw new AssertionError("expected ${type.name}, nothing was thrown")
}

String mode = args ? args[0] : 'unit'

if (mode == 'unit') {
    scenario('shipmark: constant single-quoted script, options only in env') {
        FakePipeline p = pipeline(false)
        p.cannedStdout << '[{"target": "rb", "ok": true, "id": "42"}]\nshipmark-exit-status: 0\n'
        List results = p.step('shipmark', [
            command: 'deploy', environment: 'prod', version: '1.2.3', status: 'success',
            targets: 'rb, log', hosts: ['web-1', 'web-2'], meta: [team: 'web', note: 'a b'],
            args: ['--timeout', '5'], name: 'blue', config: 'ci/shipmark.yml',
            credentialsId: 'rb-token', failOnError: true,
        ])
        assert results == [[target: 'rb', ok: true, id: '42']]
        assert p.shCalls.size() == 1
        Map call = p.shCalls[0]
        String installer = new File(LIBRARY, 'resources/shipmark/install.sh').text
        assert call.script == p.vars.shipmark.SCRIPT_HEAD + installer + p.vars.shipmark.SCRIPT_BODY
        assert call.script.startsWith('#!/bin/sh\nset -eu\n# shellcheck shell=sh\n')
        assert call.script.contains('\nshipmark_install_env() {\n')
        assert call.returnStdout == true
        assert call.label == 'shipmark deploy'
        ['prod', '1.2.3', 'web-1', 'blue', SECRET].each { assert !call.script.contains(it) }
        assert call.env == [
            SHIPMARK_WRAP_COMMAND: 'deploy',
            SHIPMARK_WRAP_TARGETS: 'rb\nlog',
            SHIPMARK_WRAP_HOSTS: 'web-1\nweb-2',
            SHIPMARK_WRAP_META: 'team=web\nnote=a b',
            SHIPMARK_WRAP_ARGV: '--timeout\n5\n',
            SHIPMARK_WRAP_ARGS: '',
            SHIPMARK_WRAP_STATUS: 'success',
            SHIPMARK_WRAP_NAME: 'blue',
            SHIPMARK_WRAP_ENVIRONMENT: 'prod',
            SHIPMARK_WRAP_VERSION: '1.2.3',
            SHIPMARK_WRAP_CONFIG: 'ci/shipmark.yml',
            SHIPMARK_WRAP_FAIL_ON_ERROR: 'true',
            SHIPMARK_INSTALL_SOURCE: 'release:shipmark==' + System.getenv('SHIPMARK_VERSION_UNDER_TEST') + ':' +
                System.getenv('SHIPMARK_DEFAULT_SHA256_UNDER_TEST'),
            SHIPMARK_INSTALL_TMP: '/harness/workspace@tmp',
            SHIPMARK_BUILD_VENV: '',
            SHIPMARK_INSTALL_LOCK: '/harness/workspace@tmp/shipmark-runtime-lock.txt',
            SHIPMARK_TOKEN: SECRET,
        ]
        assert p.bindingsSeen == [[[$class: 'StringBinding', credentialsId: 'rb-token', variable: 'SHIPMARK_TOKEN']]]
        // The lock the installer reads is the library's own, written before sh runs.
        assert p.writes == [[file: '/harness/workspace@tmp/shipmark-runtime-lock.txt',
                             text: new File(LIBRARY, 'resources/shipmark/runtime-lock.txt').text]]
    }

    scenario('shipmark: the default package is pinned by its digest, any other package is the user\'s') {
        String pinned = 'shipmark==' + System.getenv('SHIPMARK_VERSION_UNDER_TEST')
        String release = "release:${pinned}:" + System.getenv('SHIPMARK_DEFAULT_SHA256_UNDER_TEST')
        FakePipeline p = pipeline(false)
        p.baseEnv.WORKSPACE_TMP = '/agent/ws@tmp'
        [[:], ['package': ''], ['package': pinned], ['package': './vendor/shipmark.whl'],
         ['package': 'shipmark==9.9.9'], ['package': 'git+https://example.invalid/shipmark.git@v1']].each { extra ->
            p.step('shipmark', extra)
        }
        assert p.shCalls*.env*.SHIPMARK_INSTALL_SOURCE == [
            release, release, release, 'user:./vendor/shipmark.whl', 'user:shipmark==9.9.9',
            'user:git+https://example.invalid/shipmark.git@v1']
        assert p.shCalls*.env*.SHIPMARK_INSTALL_TMP.unique() == ['/agent/ws@tmp']
        assert p.writes*.file.unique() == ['/agent/ws@tmp/shipmark-runtime-lock.txt']
        ['./vendor', 'git+', '9.9.9'].each { value -> assert !p.shCalls*.script.any { it.contains(value) } }
    }

    scenario('shipmark: the virtualenv a step reports is passed to the later steps of this build only') {
        FakePipeline p = pipeline(false)
        String venv = '/harness/workspace@tmp/shipmark-venv.Ab3xY9zQ'
        p.cannedStdout << "shipmark-venv: ${venv}\n[{\"target\": \"rb\", \"ok\": true}]\nshipmark-exit-status: 0\n"
        p.cannedStdout << '[]\nshipmark-exit-status: 0\n'
        assert p.step('shipmark', [:]) == [[target: 'rb', ok: true]]
        p.step('shipmark', [:])
        p.step('shipmark', [:])
        assert p.shCalls*.env*.SHIPMARK_BUILD_VENV == ['', venv, venv]
        assert p.baseEnv.SHIPMARK_BUILD_VENV == venv
        // Only the first line counts: shipmark's own output never names the virtualenv.
        assert p.vars.shipmark.parseOutput('[]\nshipmark-venv: /elsewhere\nshipmark-exit-status: 0\n') ==
            [json: '[]\nshipmark-venv: /elsewhere', status: 0, venv: null]
        FakePipeline nextBuild = pipeline(false)
        nextBuild.step('shipmark', [:])
        assert nextBuild.shCalls[0].env.SHIPMARK_BUILD_VENV == ''
    }

    scenario('shipmark: defaults, credentials map, tokenVariable') {
        FakePipeline p = pipeline(false)
        p.credentials['db-token'] = 'db-secret'
        assert p.step('shipmark', [command: 'release create', credentialsId: 'rb-token',
                                   tokenVariable: 'RELEASEBITS_TOKEN',
                                   credentials: [DEPLOYBOT_TOKEN: 'db-token']]) == []
        Map env = p.shCalls[0].env
        assert env.SHIPMARK_WRAP_COMMAND == 'release create'
        assert env.RELEASEBITS_TOKEN == SECRET && env.DEPLOYBOT_TOKEN == 'db-secret'
        assert env.SHIPMARK_WRAP_ENVIRONMENT == '' && env.SHIPMARK_WRAP_FAIL_ON_ERROR == 'false'
        assert !env.containsKey('SHIPMARK_ENVIRONMENT') && !env.containsKey('SHIPMARK_FAIL_ON_ERROR')
        assert env.SHIPMARK_WRAP_ARGV == '' && env.SHIPMARK_WRAP_ARGS == ''
        assert p.bindingsSeen[0]*.variable == ['RELEASEBITS_TOKEN', 'DEPLOYBOT_TOKEN']
        FakePipeline bare = pipeline(false)
        bare.step('shipmark', [:])
        assert bare.shCalls[0].env.SHIPMARK_WRAP_COMMAND == 'deploy'
        assert bare.bindingsSeen == [[]]
    }

    scenario('shipmark: args as a list pass item by item, as a string they are split by shipmark-wrap') {
        FakePipeline p = pipeline(false)
        p.step('shipmark', [args: ['--meta', 'note=two words', '--name', '']])
        p.step('shipmark', [args: '--meta "note=two words" -e staging'])
        assert p.shCalls*.env*.SHIPMARK_WRAP_ARGV == ['--meta\nnote=two words\n--name\n\n', '']
        assert p.shCalls*.env*.SHIPMARK_WRAP_ARGS == ['', '--meta "note=two words" -e staging']
    }

    scenario('shipmark: non-zero exit status fails the step after parsing') {
        FakePipeline p = pipeline(false)
        p.cannedStdout << '[{"target": "rb", "ok": false}]\nshipmark-exit-status: 1\n'
        StepError e = expectThrows(StepError) { p.step('shipmark', [environment: 'prod']) }
        assert e.message == 'shipmark deploy failed with exit status 1'
    }

    scenario('shipmark: bad parameters are refused before any sh') {
        FakePipeline p = pipeline(false)
        def e = expectThrows(StepError) { p.step('shipmark', [enviroment: 'prod']) }
        assert e.message.startsWith('shipmark: unknown parameter(s) enviroment; valid: command, environment,')
        e = expectThrows(StepError) { p.step('shipmark', [command: 'deploy; id']) }
        assert e.message.contains("command must be subcommand words")
        e = expectThrows(StepError) { p.step('shipmark', [environment: 'a\nb']) }
        assert e.message == 'shipmark: environment must not contain line breaks'
        e = expectThrows(StepError) { p.step('shipmark', [hosts: ['web-1', 'a\rb']]) }
        assert e.message == 'shipmark: hosts must not contain line breaks'
        e = expectThrows(StepError) { p.step('shipmark', [meta: [note: 'a\nb']]) }
        assert p.shCalls.isEmpty()
    }

    scenario('shipmarkDeploy: start, body, success; returns the body value') {
        FakePipeline p = pipeline(false)
        Object value = p.step('shipmarkDeploy', [environment: 'prod', credentialsId: 'rb-token'], {
            p.log << 'body'
            return 'deployed'
        })
        assert value == 'deployed'
        assert p.log == ['sh: shipmark deployment start', 'body', 'sh: shipmark deployment finish']
        assert p.shCalls*.env*.SHIPMARK_WRAP_COMMAND == ['deployment start', 'deployment finish']
        assert p.shCalls*.env*.SHIPMARK_WRAP_STATUS == ['', 'success']
        assert p.shCalls*.env*.SHIPMARK_WRAP_ENVIRONMENT == ['prod', 'prod']
        assert p.shCalls*.env*.SHIPMARK_TOKEN == [SECRET, SECRET]
    }

    scenario('shipmarkDeploy: a failing body records failure and rethrows the same exception') {
        FakePipeline p = pipeline(false)
        RuntimeException boom = new RuntimeException('boom')
        Throwable seen = expectThrows(RuntimeException) {
            p.step('shipmarkDeploy', [environment: 'prod'], { throw boom })
        }
        assert seen.is(boom)
        assert p.shCalls*.env*.SHIPMARK_WRAP_COMMAND == ['deployment start', 'deployment finish']
        assert p.shCalls*.env*.SHIPMARK_WRAP_STATUS == ['', 'failure']
    }

    scenario('shipmarkDeploy: an aborted build records cancelled') {
        FakePipeline p = pipeline(false)
        Throwable abort = interrupted.newInstance()
        Throwable seen = expectThrows(InterruptedException) {
            p.step('shipmarkDeploy', [environment: 'prod'], { throw abort })
        }
        assert seen.is(abort)
        assert p.shCalls*.env*.SHIPMARK_WRAP_STATUS == ['', 'cancelled']
    }

    scenario('shipmarkDeploy: a failed failure-record still rethrows the body exception') {
        FakePipeline p = pipeline(false)
        p.cannedStdout << '[]\nshipmark-exit-status: 0\n' << '[]\nshipmark-exit-status: 1\n'
        RuntimeException boom = new RuntimeException('boom')
        Throwable seen = expectThrows(RuntimeException) {
            p.step('shipmarkDeploy', [environment: 'prod'], { throw boom })
        }
        assert seen.is(boom)
        assert p.log.any { it.startsWith('echo: shipmarkDeploy: WARNING: could not record failure') }
    }

    scenario('shipmarkDeploy: command and status are refused') {
        FakePipeline p = pipeline(false)
        expectThrows(StepError) { p.step('shipmarkDeploy', [status: 'success'], { 'x' }) }
        assert p.shCalls.isEmpty()
    }
} else if (mode == 'exec') {
    // The caller checks what the recorder saw (argv, variables) and that nothing ran.
    scenario('shipmark: the real script runs the recorder') {
        FakePipeline p = pipeline(true)
        p.baseEnv.putAll(System.getenv())
        List results = p.step('shipmark', [
            command: 'deployment finish', status: 'failure', environment: '"; touch pwned.txt; echo "',
            version: '$(id)', name: "it's `id`", targets: ['rb'], hosts: 'web-1 web-2',
            meta: [cmd: '$(id)', glob: '*'], args: ['--timeout', '5', '--meta', 'x=$HOME'],
            credentialsId: 'rb-token',
        ])
        assert results == [[target: 'recorder', ok: true]]
    }
} else if (mode == 'quoting') {
    // Real sh and the real shipmark-wrap on PATH; the caller checks the events it recorded.
    scenario('shipmark: a quoted args string is split, list items with spaces are not') {
        FakePipeline p = pipeline(true)
        p.baseEnv.putAll(System.getenv())
        p.step('shipmark', [args: System.getenv('QUOTED_ARGS')])
        p.step('shipmark', [args: ['--meta', 'note=two words', '-e', 'staging', '--name', 'blue green']])
        assert p.shCalls*.env*.SHIPMARK_WRAP_ARGS == [System.getenv('QUOTED_ARGS'), '']
    }
} else if (mode == 'install') {
    scenario('shipmarkDeploy: installs PACKAGE once per build, records in_progress then failure') {
        FakePipeline p = pipeline(true)
        p.baseEnv.putAll(System.getenv())
        RuntimeException boom = new RuntimeException('deploy script failed')
        Throwable seen = expectThrows(RuntimeException) {
            p.step('shipmarkDeploy', [environment: 'prod', credentialsId: 'rb-token',
                                      tokenVariable: 'SHIPMARK_TARGET_RB_TOKEN',
                                      'package': System.getenv('PACKAGE') ?: null], { throw boom })
        }
        assert seen.is(boom)
        assert p.shCalls.size() == 2
        p.shCalls.each { call -> assert call.stdout.contains('"target": "rb"') || call.stdout.contains('"target":"rb"') }
        assert p.shCalls*.env*.SHIPMARK_INSTALL_SOURCE.unique() == [System.getenv('EXPECTED_SOURCE')]
        // The first step installed into a fresh directory named at random and reported it
        // (env.SHIPMARK_BUILD_VENV, for this build only); the second step reused it.
        String venv = p.baseEnv.SHIPMARK_BUILD_VENV
        assert venv ==~ /${java.util.regex.Pattern.quote(System.getenv('WORKSPACE_TMP'))}\/shipmark-venv\.[A-Za-z0-9]{8}/
        assert p.shCalls*.env*.SHIPMARK_BUILD_VENV == ['', venv]
        assert new File(venv, '.shipmark-build').text ==
            System.getenv('BUILD_TAG') + '|' + System.getenv('EXPECTED_SOURCE')
        println "BUILD_VENV: ${venv}"
    }
} else if (mode == 'guard') {
    // shipmarkDeploy around ./deploy.sh while shipmark cannot install or record; the caller
    // checks the printed outcome (the block's own), the warnings and what deploy.sh did.
    scenario('shipmarkDeploy: the block runs whatever happens to tracking') {
        FakePipeline p = pipeline(true)
        p.baseEnv.putAll(System.getenv())
        Map args = [environment: 'prod', 'package': System.getenv('PACKAGE') ?: null,
                    failOnError: System.getenv('FAIL_ON_ERROR') == 'true']
        try {
            p.step('shipmarkDeploy', args, { p.step('sh', './deploy.sh') })
            println 'OUTCOME: success'
        } catch (StepError failure) {
            println "OUTCOME: error: ${failure.message}"
        }
        p.log.findAll { it.startsWith('echo: ') }.each { println it }
        println "DESCRIPTION: ${p.binding.getVariable('currentBuild').description}"
    }
} else if (mode == 'jenkinsfile') {
    // The docs' Jenkinsfile, with real sh and the real shipmark; the caller checks the events.
    scenario('the docs Jenkinsfile loads the library, deploys and releases') {
        FakePipeline p = pipeline(true)
        p.baseEnv.putAll(System.getenv())
        p.credentials['releasebits-token'] = SECRET
        p.credentials['buildmaster-api-key'] = 'harness-bm-key-41d7'
        p.runJenkinsfile(new File(System.getenv('JENKINSFILE')))
        assert p.libraryCalls.size() == 1
        Map library = p.libraryCalls[0]
        assert library.identifier == 'shipmark@v' + System.getenv('SHIPMARK_VERSION_UNDER_TEST')
        assert library.retriever.libraryPath == 'jenkins/'
        assert library.retriever.scm.$class == 'GitSCMSource'
        assert p.log.findAll { it.startsWith('stage: ') || it.startsWith('skipped: ') } == [
            'stage: Deploy', 'stage: Release']
        assert p.shCalls*.label == ['shipmark deployment start', null, 'shipmark deployment finish',
                                   'shipmark release create']
        assert p.log.contains('echo: release recorded: [bm=true, log=true]')
    }
} else {
    throw new IllegalArgumentException("unknown mode ${mode}")
}

println "${passed} passed, ${failed} failed"
System.exit(failed ? 1 : 0)
