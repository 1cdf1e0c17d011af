/**
 * Whether the dev tier's host port for n8n is open to anyone: the CIDRs that the host's security
 * groups allow on that port (the dev stack adds one rule per configured allowedCidr; none by
 * default, and n8n is then reached through SSM port forwarding only).
 */
import { DescribeSecurityGroupsCommand, type EC2Client, type IpPermission } from '@aws-sdk/client-ec2';

/** What this module needs of a host (hosts.ts's HostInfo fits; no import back to it). */
export interface HostWithSecurityGroups {
  readonly instanceId: string;
  readonly securityGroupIds?: readonly string[];
}

function allows(permission: IpPermission, port: number): boolean {
  if (permission.IpProtocol === '-1') return true;
  if (permission.IpProtocol !== 'tcp' && permission.IpProtocol !== '6') return false;
  return (permission.FromPort ?? 0) <= port && port <= (permission.ToPort ?? 65535);
}

/** CIDRs (and prefix lists) allowed to reach `port` on each host, by instance id; one call for all hosts. */
export async function openSources(ec2: EC2Client, hosts: readonly HostWithSecurityGroups[], port: number): Promise<Map<string, string[]>> {
  const result = new Map<string, string[]>();
  const groupIds = [...new Set(hosts.flatMap((h) => h.securityGroupIds ?? []))];
  if (groupIds.length === 0) return result;
  const sourcesByGroup = new Map<string, string[]>();
  for (let i = 0; i < groupIds.length; i += 200) {
    let nextToken: string | undefined;
    do {
      const page = await ec2.send(
        new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-id', Values: groupIds.slice(i, i + 200) }], NextToken: nextToken }),
      );
      for (const group of page.SecurityGroups ?? []) {
        if (!group.GroupId) continue;
        const sources: string[] = [];
        for (const permission of group.IpPermissions ?? []) {
          if (!allows(permission, port)) continue;
          for (const range of permission.IpRanges ?? []) if (range.CidrIp) sources.push(range.CidrIp);
          for (const range of permission.Ipv6Ranges ?? []) if (range.CidrIpv6) sources.push(range.CidrIpv6);
          for (const list of permission.PrefixListIds ?? []) if (list.PrefixListId) sources.push(list.PrefixListId);
        }
        sourcesByGroup.set(group.GroupId, sources);
      }
      nextToken = page.NextToken;
    } while (nextToken);
  }
  for (const host of hosts) {
    result.set(host.instanceId, [...new Set((host.securityGroupIds ?? []).flatMap((id) => sourcesByGroup.get(id) ?? []))]);
  }
  return result;
}
