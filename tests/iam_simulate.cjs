// Evaluate a table of AWS requests with @cloud-copilot/iam-simulate, the independent IAM
// policy evaluator pinned in package.json. One process for the whole table:
//
//   node tests/iam_simulate.cjs < requests.json > decisions.json
//
// Input: {"requests": [{"id", "principal", "action", "resource", "resourceAccount",
//          "context": {key: value}, "identityPolicies": [policy], "resourcePolicy": policy}]}
// Output: [{"id", "decision" ("Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied" | "error"),
//           "ignoredContextKeys": [key], "errors": object or null}]
// Validation errors (a malformed policy, an unknown action, a resource of the wrong type)
// come back as decision "error" with the evaluator's message, never as a denial.
'use strict'

const { runSimulation } = require('@cloud-copilot/iam-simulate')

async function evaluate(request) {
  const simulation = {
    request: {
      principal: request.principal,
      action: request.action,
      resource: { resource: request.resource, accountId: request.resourceAccount },
      contextVariables: request.context || {}
    },
    identityPolicies: (request.identityPolicies || []).map((policy, i) => ({ name: `identity-${i}`, policy })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: request.resourcePolicy
  }
  const response = await runSimulation(simulation, {})
  if (response.resultType === 'error') {
    return { id: request.id, decision: 'error', ignoredContextKeys: [], errors: response.errors }
  }
  if (response.resultType !== 'single') {
    const errors = { message: `expected one resource, got a ${response.resultType} result` }
    return { id: request.id, decision: 'error', ignoredContextKeys: [], errors }
  }
  return {
    id: request.id,
    decision: response.overallResult,
    ignoredContextKeys: response.result.ignoredContextKeys || [],
    errors: null
  }
}

async function main() {
  const chunks = []
  for await (const chunk of process.stdin) chunks.push(chunk)
  const { requests } = JSON.parse(Buffer.concat(chunks).toString('utf8'))
  const results = []
  for (const request of requests) results.push(await evaluate(request))
  process.stdout.write(JSON.stringify(results))
}

main().catch((error) => {
  process.stderr.write(`iam_simulate: ${error.stack || error}\n`)
  process.exit(1)
})
