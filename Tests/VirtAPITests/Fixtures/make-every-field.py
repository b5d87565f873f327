# Writes every-field.json: each kind that reads itself (a JSONObjectDecodable type with apiVersion, kind and
# metadata: VirtualMachine, VirtualMachineInstance, VirtualMachineInstanceMigration) with every field its
# readers read set, from the init(reading:) extensions in Sources/VirtAPI/Kinds.
# Run from the repository root after adding a field: python3 Tests/VirtAPITests/Fixtures/make-every-field.py
import re, json, glob
structs={}
for p in glob.glob('Sources/VirtAPI/Kinds/*.swift'):
    src=open(p).read()
    for m in re.finditer(r'extension (\w+): JSONObjectDecodable \{\n    public init\(reading object: inout JSONObjectReader\) throws \{(.*?)\n    \}\n\}', src, re.S):
        fields=[]
        for line in m.group(2).split('\n'):
            mm=re.match(r'\s+(?:self\.)?(\w+) = try object\.(optional|required)\("(\w+)"\)', line)
            if mm: fields.append(mm.group(3))
        sm=re.search(r'public struct '+m.group(1)+r': Codable[^{]*\{\n(.*?)\n\}\n', src, re.S)
        types={}
        depth=0
        for line in sm.group(1).split('\n'):
            if depth==0:
                mm=re.match(r'    public var `?(\w+)`?: ([^={]+?)\s*$', line)
                if mm: types[mm.group(1)]=mm.group(2).strip().rstrip('?')
            depth+=line.count('{')-line.count('}')
        assert set(fields)==set(types), (m.group(1), set(fields)^set(types))
        structs[m.group(1)]=[(f,types[f]) for f in fields]
def sample(t, name):
    if t.startswith('[') and ':' in t:
        k,v=t[1:-1].split(':',1); return {"key-"+name: sample(v.strip(), name)}
    if t=='ResourceList': return {"memory": "1Gi"}
    if t.startswith('['): return [sample(t[1:-1], name)]
    if t=='String': return "v-"+name
    if t=='Bool': return True
    if t in ('Int','Int32','Int64','UInt','UInt32','UInt64'): return 3
    if t=='Double': return 1.5
    if t=='Quantity': return "2Gi"
    if t=='JSONValue': return {"opaque-"+name: [1, {"deep": True}]}
    if t=='EmptyObject': return {}
    return {f: sample(ft, f) for f,ft in structs[t]}
kinds=sorted(k for k,fs in structs.items() if {'apiVersion','kind','metadata'} <= {f for f,_ in fs})
out={k: sample(k,'root') for k in kinds}
open("Tests/VirtAPITests/Fixtures/every-field.json", "w").write(json.dumps(out, indent=1, sort_keys=True) + "\n")
