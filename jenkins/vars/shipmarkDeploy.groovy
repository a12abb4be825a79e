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
    shipmark(args + [command: 'deployment start'])
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
            echo("shipmarkDeploy: could not record ${status}: ${recordError}")
        }
        throw failure
    }
    shipmark(args + [command: FINISH, status: 'success'])
    return result
}

/** An aborted build (FlowInterruptedException) is `cancelled`; anything else a `failure`. */
@NonCPS
String failureStatus(Throwable failure) {
    return failure.toString().startsWith('org.jenkinsci.plugins.workflow.steps.FlowInterruptedException') ?
        'cancelled' : 'failure'
}
