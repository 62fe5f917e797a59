import json,sys,re,collections
p=json.load(open(sys.argv[1]))
nodes={n['id']:n for n in p['nodes']}
import itertools
ts=list(itertools.accumulate(p['timeDeltas']))
end=ts[-1]; win=float(sys.argv[2])*1e6 if len(sys.argv)>2 else end
self_t=collections.Counter(); total=0
for s,d,t in zip(p['samples'],p['timeDeltas'],ts):
    if t>=end-win-1e6 and t<end-0.5e6: self_t[s]+=d; total+=d
byfn=collections.Counter(); bypkg=collections.Counter()
def pkg(url):
    if not url: return '(native)'
    m=re.search(r'node_modules/((?:@[^/]+/)?[^/]+)',url)
    if m: return m.group(1)
    if url.startswith('node:'): return url
    m=re.search(r'/work/main/(\w+/[\w-]+)',url)
    return m.group(1) if m else url[-40:]
for nid,t in self_t.items():
    cf=nodes[nid]['callFrame']
    byfn[(cf['functionName'] or '(anon)')+' '+pkg(cf['url'])+':'+str(cf['lineNumber'])]+=t
    bypkg[pkg(cf['url']) if cf['url'] else cf['functionName']]+=t
print('total ms',total/1000)
for k,v in bypkg.most_common(25): print('%6.1f%% %s'%(100*v/total,k))
print('---')
for k,v in byfn.most_common(30): print('%6.1f%% %s'%(100*v/total,k))
