/*
 * shipmarkDeploy(...) { ... }: record a deployment around a block of pipeline code.
 *
 *   shipmarkDeploy(environment: 'prod', credentialsId: 'releasebits-token') {
 *       sh './deploy.sh'
 *   }
 *
 * Records `in_progress` (shipmark deployment start), runs the block, then records
 * `success`, or `failure` (`cancelled` when the build was aborted) and rethrows the
 * block's exception. Takes the same parameters as shipmark() except command and status.
 * Returns what the block returns.
 *
 * Tracking must never be the reason a deploy does not run: unless failOnError is true, a
 * failure to install shipmark or to record the start or the end (no python3, no package
 * index, a config error, a rejected event) is a warning, echoed and added to the build's
 * description, and the block runs anyway; the block alone decides the build's result.
 */
// Pipeline steps run under Jenkins' CPS interpreter, which cannot compile statically.
/* groovylint-disable CompileStatic */
import groovy.transform.Field

@Field final String FINISH = 'deployment finish'

Object call(Map args = [:], Closure body) {
    ['command', 'status'].each { key ->
        if (args.containsKey(key)) {
            error("shipmarkDeploy: '${key}' is set by the step itself; use shipmark() for other commands")
        }
    }
    record(args, [command: 'deployment start'])
    Object result
    try {
        result = body()
    // Any Throwable: a failed `assert` in the block is an Error, and it must be recorded too.
    // groovylint-disable-next-line CatchThrowable
    } catch (Throwable failure) {
        String status = failureStatus(failure)
        try {
            shipmark(args + [command: FINISH, status: status])
        // groovylint-disable-next-line CatchThrowable
        } catch (Throwable recordError) {
            warn("could not record ${status}: ${recordError}")
        }
        throw failure
    }
    record(args, [command: FINISH, status: 'success'])
    return result
}

/** shipmark(); a failure is a warning unless failOnError (an aborted build still stops). */
void record(Map args, Map step) {
    try {
        shipmark(args + step)
    // groovylint-disable-next-line CatchThrowable
    } catch (Throwable recordError) {
        if (args.failOnError || failureStatus(recordError) == 'cancelled') {
            throw recordError
        }
        warn("could not record ${step.command}: ${recordError}")
    }
}

/** A warning in the log and in the build's description (shown on the build page). */
void warn(String problem) {
    String text = "shipmarkDeploy: WARNING: ${problem}; the deploy is not tracked " +
        '(failOnError: true fails the build instead)'
    echo(text)
    String previous = currentBuild.description
    currentBuild.description = previous ? "${previous}\n${text}" : text
}

/** An aborted build (FlowInterruptedException) is `cancelled`; anything else a `failure`. */
@NonCPS
String failureStatus(Throwable failure) {
    return failure.toString().startsWith('org.jenkinsci.plugins.workflow.steps.FlowInterruptedException') ?
        'cancelled' : 'failure'
}
