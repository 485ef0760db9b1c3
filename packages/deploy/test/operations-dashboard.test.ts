import { describe, expect, it } from '@jest/globals';
import { loadStage, operationsDashboard, STATE_MACHINE_ALARMS } from '../src/index.js';

const text = (body: ReturnType<typeof operationsDashboard>) =>
  body['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : JSON.stringify(part))).join('');

describe('the operations dashboard', () => {
  it('shows the dead-letter queue and its alarm only where the stage creates the queue', () => {
    const own = loadStage('ci');
    const hosts = { ...own, evalai: { ...own.evalai, queueArn: 'arn:aws:sqs:us-west-2:123456789012:evalai-q' } };
    expect(text(operationsDashboard('ci', own))).toContain('pitwall-ci-submissions-dlq');
    expect(text(operationsDashboard('ci', own))).toContain('alarm:pitwall-ci-submissions-dead-letters');
    expect(text(operationsDashboard('ci', hosts))).not.toContain('dead-letter');
    for (const alarm of STATE_MACHINE_ALARMS) expect(text(operationsDashboard('ci', hosts))).toContain(alarm);
  });

  it('draws what ended evaluations cost and their GPU time, per phase, from the metrics the functions emit', () => {
    const body = text(operationsDashboard('ci', loadStage('ci')));
    expect(body).toContain(`SEARCH('{Pitwall,Phase,Track,service} MetricName=\\"CostUsd\\"', 'Sum', 86400)`);
    expect(body).toContain(`SEARCH('{Pitwall,Phase,Track,service} MetricName=\\"GpuSeconds\\"', 'Sum', 86400)`);
  });

  it("draws Pitwall's share of EvalAI's requests as a line", () => {
    const stage = loadStage('ci');
    expect(text(operationsDashboard('ci', stage))).toContain(
      `"horizontal":[{"label":"Pitwall's share","value":${stage.evalai.requestsPerMinute}}]`,
    );
  });
});
