/** Reading the stack's CloudWatch alarms back (DescribeAlarms) and which metrics exist (ListMetrics). */
import { DescribeAlarmsCommand, ListMetricsCommand, type CloudWatchClient } from '@aws-sdk/client-cloudwatch';

export type AlarmStateValue = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

export interface AlarmReading {
  name: string;
  state: AlarmStateValue;
  reason: string;
  /** When the alarm last changed state (StateTransitionedTimestamp; StateUpdatedTimestamp when absent). */
  transitionedAtMs: number;
}

export interface AlarmSource {
  /** The alarm, or undefined when no alarm has that name. */
  read(name: string): Promise<AlarmReading | undefined>;
  /** Names of the metrics CloudWatch lists in a namespace (ListMetrics lags new metrics by minutes). */
  metricNames(namespace: string): Promise<string[]>;
}

const MAX_PAGES = 20;

export function createAlarmSource(cloudwatch: CloudWatchClient): AlarmSource {
  return {
    async read(name) {
      const res = await cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: [name], AlarmTypes: ['MetricAlarm'] }));
      const alarm = res.MetricAlarms?.find((a) => a.AlarmName === name);
      if (!alarm) return undefined;
      const at = alarm.StateTransitionedTimestamp ?? alarm.StateUpdatedTimestamp;
      return { name, state: (alarm.StateValue ?? 'INSUFFICIENT_DATA') as AlarmStateValue, reason: alarm.StateReason ?? '', transitionedAtMs: at ? at.getTime() : 0 };
    },
    async metricNames(namespace) {
      const names = new Set<string>();
      let nextToken: string | undefined;
      for (let page = 0; page < MAX_PAGES; page++) {
        const res = await cloudwatch.send(new ListMetricsCommand({ Namespace: namespace, NextToken: nextToken }));
        for (const m of res.Metrics ?? []) if (m.MetricName) names.add(m.MetricName);
        nextToken = res.NextToken;
        if (!nextToken) break;
      }
      return [...names].sort();
    },
  };
}
