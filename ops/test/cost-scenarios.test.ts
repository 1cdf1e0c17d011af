/**
 * The rules behind the typical-spot, scheduled and stopped figures, on small hand-written templates and
 * the shipped table, in-process: running hours of a schedule, the highest typical price among the offered
 * types, the on-demand fallback where the table has no typical spot price, what exists only with a host.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Decimal } from '../src/cost/decimal';
import { estimate } from '../src/cost/estimate';
import type { CostInventory } from '../src/cost/model';
import { loadOfflineTable, parseOfflineTable } from '../src/cost/offline-table';
import { PriceBook } from '../src/cost/price-book';
import { parseRecurrence, scheduleHours } from '../src/cost/schedule';
import { templateInventory } from '../src/cost/template';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gm-ops-cost-scenarios-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const table = loadOfflineTable();
const price = (key: string) => table.lookup('us-east-1', key, false)![0].price;
const action = (logicalId: string, recurrence: string, desiredCapacity: number) => ({ logicalId, recurrence, desiredCapacity, timeZone: 'UTC' });

describe('running hours of a start/stop schedule', () => {
  it('08:00 to 20:00 on weekdays: 60 h a week, 60 x 730 / 168 h a month', () => {
    const estimate = scheduleHours({ actions: [action('Start', '0 8 * * MON-FRI', 1), action('Stop', '0 20 * * MON-FRI', 0)] });
    if (!estimate.ok) throw new Error(estimate.reason);
    expect(estimate.hours.weeklyHours.toString()).toBe('60');
    expect(estimate.hours.monthlyHours.toFixed(6)).toBe(Decimal.of(60 * 730).div(168).toFixed(6));
    expect(estimate.hours.fraction.toFixed(9)).toBe(Decimal.of(60).div(168).toFixed(9));
  });

  it('a stop after midnight counts: 20:00 to 06:30 every day is 10.5 h a day', () => {
    const estimate = scheduleHours({ actions: [action('Start', '0 20 * * *', 1), action('Stop', '30 6 * * *', 0)] });
    expect(estimate.ok && estimate.hours.weeklyHours.toString()).toBe(String(10.5 * 7));
  });

  it('day numbers and ranges over the end of the week: FRI-MON is 4 days, 0 and 7 are Sunday', () => {
    expect(parseRecurrence('0 9 * * FRI-MON')).toEqual({ minute: 0, hour: 9, days: [0, 1, 5, 6] });
    expect(parseRecurrence('15 7 * * 1-5')).toEqual({ minute: 15, hour: 7, days: [1, 2, 3, 4, 5] });
    expect(parseRecurrence('0 7 * * 0,7')).toEqual({ minute: 0, hour: 7, days: [0] });
  });

  it('start without stop runs all week; stop without start never runs', () => {
    const always = scheduleHours({ actions: [action('Start', '0 8 * * MON', 1)] });
    expect(always.ok && always.hours.weeklyHours.toString()).toBe('168');
    const never = scheduleHours({ actions: [action('Stop', '0 20 * * *', 0)] });
    expect(never.ok && never.hours.weeklyHours.toString()).toBe('0');
  });

  it.each([
    ['*/30 8 * * MON-FRI', 'only a single minute (0-59) is estimated, not "*/30"'],
    ['0 8-10 * * MON-FRI', 'only a single hour (0-23) is estimated, not "8-10"'],
    ['0 8 1 * *', 'a day-of-month field ("1") is not estimated, only days of the week'],
    ['0 8 * 6 *', 'a month field ("6") is not estimated, only days of the week'],
    ['0 8 * * WEEKDAYS', 'the day-of-week field "WEEKDAYS" is not names SUN-SAT or numbers 0-7, in lists and ranges'],
    ['0 8 * *', 'is not a cron expression of 5 fields (minute hour day-of-month month day-of-week)'],
  ])('%s cannot be estimated, and says why', (recurrence, why) => {
    const estimate = scheduleHours({ actions: [action('Start', recurrence, 1), action('Stop', '0 20 * * MON-FRI', 0)] });
    expect(estimate).toEqual({ ok: false, reason: expect.stringContaining(why) });
    expect(estimate.ok || estimate.reason.startsWith('Start: ')).toBe(true);
  });

  it('a one-off action, or start and stop at the same minute, cannot be estimated', () => {
    expect(scheduleHours({ actions: [{ logicalId: 'Once', desiredCapacity: 1 }] })).toEqual({ ok: false, reason: expect.stringContaining('Once has no Recurrence') });
    expect(scheduleHours({ actions: [action('Start', '0 8 * * MON', 1), action('Stop', '0 8 * * MON-FRI', 0)] })).toEqual({
      ok: false,
      reason: 'Start and Stop start and stop the host at the same minute',
    });
  });
});

/** A group of one spot host over `types`, a 20 GB root volume, a public IPv4; an EFS; a secret; an optional schedule. */
function writeTemplate(name: string, types: string[], extra: Record<string, unknown> = {}, deleteOnTermination = true): string {
  const file = path.join(tmp, `${name}.template.json`);
  fs.writeFileSync(file, JSON.stringify({
    Resources: {
      Lt: {
        Type: 'AWS::EC2::LaunchTemplate',
        Properties: {
          LaunchTemplateData: {
            BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeSize: 20, VolumeType: 'gp3', DeleteOnTermination: deleteOnTermination } }],
            NetworkInterfaces: [{ DeviceIndex: 0, AssociatePublicIpAddress: true }],
          },
        },
      },
      Group: {
        Type: 'AWS::AutoScaling::AutoScalingGroup',
        Properties: {
          MinSize: '0',
          MaxSize: '1',
          DesiredCapacity: '1',
          MixedInstancesPolicy: {
            InstancesDistribution: { OnDemandBaseCapacity: 0, OnDemandPercentageAboveBaseCapacity: 0, SpotAllocationStrategy: 'price-capacity-optimized' },
            LaunchTemplate: { LaunchTemplateSpecification: { LaunchTemplateId: { Ref: 'Lt' } }, Overrides: types.map((InstanceType) => ({ InstanceType })) },
          },
        },
      },
      Fs: { Type: 'AWS::EFS::FileSystem', Properties: { ThroughputMode: 'elastic' } },
      Secret: { Type: 'AWS::SecretsManager::Secret', Properties: {} },
      ...extra,
    },
  }));
  return file;
}

async function priced(file: string, region = 'us-east-1', prices = table) {
  const part = templateInventory(file, region);
  const notPriced = [...part.notPriced.entries()].map(([type, count]) => ({ type, count }));
  const inventory: CostInventory = { kind: 'template', subject: part.stack, region, resources: part.resources, notPriced, notes: part.notes, schedule: part.schedule };
  const book = new PriceBook({ region, clock: { now: () => 0 }, table: prices, offlineReason: '--offline' });
  return estimate(inventory, book, 0);
}

describe('the typical-spot figure: which price a spot host gets', () => {
  // 20 GB gp3 + a public IPv4 all month; a secret and the file system at 5 GB.
  const rest = () => price('ebs:gp3:storage').mul(20).add(price('vpc:public-ipv4').mul(730)).add(price('secrets:secret')).add(price('efs:standard').mul(5));

  it('the highest typical spot price among the offered types, never the lowest', async () => {
    const report = await priced(writeTemplate('two', ['m6g.large', 'r7g.large']));
    const highest = [table.typicalSpot('us-east-1', 'm6g.large')!.price, table.typicalSpot('us-east-1', 'r7g.large')!.price].reduce((a, b) => (b.cmp(a) > 0 ? b : a));
    expect(report.scenarios.typicalSpotMonthlyCost!.toString()).toBe(highest.mul(730).add(rest()).toString());
    expect(report.scenarios.hosts[0]).toMatchObject({ basis: 'typical spot', price: highest, note: expect.stringContaining('the highest typical price of the 2 offered types') });
  });

  it('a type without a typical spot price counts at its on-demand price, and says so', async () => {
    const raw = JSON.parse(fs.readFileSync(table.path, 'utf8'));
    delete raw.typicalSpot.regions['us-east-1']['g5.xlarge'];
    const withoutG5 = parseOfflineTable(JSON.stringify(raw), 'without-g5.json');
    expect(withoutG5.typicalSpot('us-east-1', 'g5.xlarge')).toBeUndefined();
    const report = await priced(writeTemplate('gpu', ['g5.xlarge', 'm6g.large']), 'us-east-1', withoutG5);
    expect(report.scenarios.hosts[0]).toMatchObject({ instanceType: 'g5.xlarge', basis: 'on-demand: no typical spot price', price: price('ec2:g5.xlarge') });
    expect(report.scenarios.hosts[0].note).toContain('no typical spot price in the table for g5.xlarge in us-east-1: at its on-demand price');
    expect(report.scenarios.typicalSpotMonthlyCost!.toString()).toBe(price('ec2:g5.xlarge').mul(730).add(rest()).toString());
  });

  it('a region without typical spot prices: the on-demand price of the highest-priced type', async () => {
    const report = await priced(writeTemplate('eu', ['m6i.large', 'm6a.large']), 'eu-west-1');
    const eu = (key: string) => table.lookup('eu-west-1', key, false)![0].price;
    expect(report.scenarios.hosts[0]).toMatchObject({ instanceType: 'm6i.large', basis: 'on-demand: no typical spot price' });
    const restEu = eu('ebs:gp3:storage').mul(20).add(eu('vpc:public-ipv4').mul(730)).add(eu('secrets:secret')).add(eu('efs:standard').mul(5));
    expect(report.scenarios.typicalSpotMonthlyCost!.toString()).toBe(eu('ec2:m6i.large').mul(730).add(restEu).toString());
  });

  it('no price at all for any offered type: the typical and scheduled figures are unknown, the stopped one is not', async () => {
    const report = await priced(writeTemplate('unknown', ['x9z.large'], {
      Start: { Type: 'AWS::AutoScaling::ScheduledAction', Properties: { AutoScalingGroupName: { Ref: 'Group' }, DesiredCapacity: 1, Recurrence: '0 8 * * *' } },
    }));
    expect(report.scenarios.typicalSpotMonthlyCost).toBeUndefined();
    expect(report.scenarios.scheduled?.monthlyCost).toBeUndefined();
    expect(report.scenarios.scheduled?.reason).toBe('the typical price of the host is not known');
    expect(report.scenarios.stoppedMonthlyCost.toString()).toBe(price('secrets:secret').add(price('efs:standard').mul(5)).toString());
  });
});

describe('what exists only while a host runs', () => {
  it('a root volume kept on termination survives a stop and is not scaled by the schedule', async () => {
    const kept = await priced(writeTemplate('kept', ['m6g.large'], {}, false));
    expect(kept.scenarios.stoppedMonthlyCost.toString()).toBe(price('ebs:gp3:storage').mul(20).add(price('secrets:secret')).add(price('efs:standard').mul(5)).toString());
    const deleted = await priced(writeTemplate('deleted', ['m6g.large']));
    expect(deleted.scenarios.stoppedMonthlyCost.toString()).toBe(price('secrets:secret').add(price('efs:standard').mul(5)).toString());
  });

  it('an unreadable schedule: no figure, the reason in the JSON and the table', async () => {
    const report = await priced(writeTemplate('monthly', ['m6g.large'], {
      Start: { Type: 'AWS::AutoScaling::ScheduledAction', Properties: { AutoScalingGroupName: { Ref: 'Group' }, DesiredCapacity: 1, Recurrence: '0 8 1 * *' } },
      Stop: { Type: 'AWS::AutoScaling::ScheduledAction', Properties: { AutoScalingGroupName: { Ref: 'Group' }, DesiredCapacity: 0, Recurrence: '0 20 1 * *' } },
    }));
    expect(report.scenarios.scheduled).toEqual({ reason: 'Start: "0 8 1 * *": a day-of-month field ("1") is not estimated, only days of the week' });
    expect(report.notPriced).toEqual([]);
  });
});

describe('the typical spot rows of the shipped table', () => {
  it('each row names a known source with a URL and a date', () => {
    const raw = JSON.parse(fs.readFileSync(table.path, 'utf8'));
    for (const rows of Object.values(raw.typicalSpot.regions) as Record<string, { source: string }>[]) {
      for (const row of Object.values(rows)) {
        expect(raw.typicalSpot.sources[row.source]).toEqual({ label: expect.any(String), url: expect.stringMatching(/^https:\/\//), asOf: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/), note: expect.any(String) });
      }
    }
    expect(raw.typicalSpot.missing.length).toBeGreaterThan(0);
  });

  it('a row citing an unknown source makes the table invalid', () => {
    const raw = JSON.parse(fs.readFileSync(table.path, 'utf8'));
    raw.typicalSpot.regions['us-east-1']['m6g.large'].source = 'nowhere';
    expect(() => parseOfflineTable(JSON.stringify(raw), 'bad.json')).toThrow('typicalSpot.regions.us-east-1.m6g.large: unknown source "nowhere"');
  });
});
